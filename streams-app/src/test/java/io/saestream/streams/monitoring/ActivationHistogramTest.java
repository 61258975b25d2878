package io.saestream.streams.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The fixed half-octave bins and the sparse encoding of the activation histogram. */
class ActivationHistogramTest {

  @Test
  void binsAreZeroThenHalfOctavesFromOneSixtyFourthTo256() {
    double[] edges = ActivationHistogram.binEdges();
    assertThat(edges).hasSize(ActivationHistogram.BINS + 1);
    assertThat(edges[0]).isZero();
    assertThat(edges[1]).isEqualTo(1.0 / 64);
    assertThat(edges[ActivationHistogram.BINS]).isEqualTo(256.0);
    for (int i = 2; i < edges.length; i++) {
      assertThat(edges[i] / edges[i - 1])
          .isCloseTo(Math.sqrt(2), org.assertj.core.api.Assertions.within(1e-12));
    }
    assertThat(ActivationHistogram.bin(0.001)).isZero();
    assertThat(ActivationHistogram.bin(1.0 / 64)).isEqualTo(1);
    assertThat(ActivationHistogram.bin(1.0)).isEqualTo(13);
    assertThat(ActivationHistogram.bin(1.41)).isEqualTo(13);
    assertThat(ActivationHistogram.bin(1.42)).isEqualTo(14);
    assertThat(ActivationHistogram.bin(255.9)).isEqualTo(ActivationHistogram.BINS - 1);
    assertThat(ActivationHistogram.bin(1e9)).as("clamped").isEqualTo(ActivationHistogram.BINS - 1);
  }

  @Test
  void adds() {
    long[] counts = new long[ActivationHistogram.BINS];
    counts[3] = 2;
    counts[20] = 7_000_000_000L;
    ActivationHistogram h = ActivationHistogram.of(counts).plus(ActivationHistogram.of(counts));
    assertThat(h.count(3)).isEqualTo(4);
    assertThat(h.total()).isEqualTo(14_000_000_004L);
  }

  @Test
  void rejectsWrongShapesAndNegativeCounts() {
    assertThatThrownBy(() -> ActivationHistogram.of(1, 2))
        .hasMessageContaining("a histogram has " + ActivationHistogram.BINS + " bins, was given 2");
    long[] negative = new long[ActivationHistogram.BINS];
    negative[1] = -1;
    assertThatThrownBy(() -> ActivationHistogram.of(negative))
        .hasMessage("bin 1 must count >= 0, was -1");
  }
}
