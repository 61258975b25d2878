package io.saestream.streams.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

class ReconstructionMathTest {

  @Test
  void deviationIsMeasuredFromThePerDimensionMeanNotFromZero() {
    // Rows (1, 10) and (3, 14): means (2, 12), deviations ±1 and ±2.
    FloatBuffer x = FloatBuffer.wrap(new float[] {1, 10, 3, 14});

    assertThat(ReconstructionMath.totalSquaredDeviation(x, 2, 2)).isEqualTo(1 + 4 + 1 + 4);
  }

  @Test
  void fvuIsTheShareOfTheDeviationLeftInTheErrors() {
    assertThat(ReconstructionMath.fractionOfVarianceUnexplained(2.5, 10)).isEqualTo(0.25);
  }

  @Test
  void fvuIsUndefinedWithoutVariance() {
    FloatBuffer same = FloatBuffer.wrap(new float[] {5, 6, 5, 6});
    double deviation = ReconstructionMath.totalSquaredDeviation(same, 2, 2);

    assertThat(deviation).isZero();
    assertThat(ReconstructionMath.fractionOfVarianceUnexplained(0.1, deviation)).isNaN();
  }
}
