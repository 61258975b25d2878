package io.saestream.sae.fold;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.saestream.sae.checkpoint.DType;
import io.saestream.sae.checkpoint.FloatTensor;
import org.junit.jupiter.api.Test;

/**
 * The two read paths of {@link DecoderNorms#of}: whole rows per read and rows split into pieces
 * (rows longer than one read block), in float32 and float64.
 */
class DecoderNormsTest {

  @Test
  void rowsLongerThanOneReadAreSummedPieceByPiece() {
    int rows = 3;
    int cols = 70_000; // more than the 65 536-element read block
    float[] w = new float[rows * cols];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) Math.sin(i * 0.37) * (1 + i / cols);
    }

    double[] norms = DecoderNorms.of(FloatTensor.of(w, rows, cols));

    for (int r = 0; r < rows; r++) {
      double s = 0;
      for (int c = 0; c < cols; c++) {
        s += (double) w[r * cols + c] * w[r * cols + c];
      }
      float expected = (float) Math.sqrt(s);
      // The norm is rounded to float32; summation order may move it by at most one ulp.
      assertThat(norms[r]).as("row %d", r).isCloseTo(expected, within((double) Math.ulp(expected)));
    }
  }

  @Test
  void float64WeightsAreReadAndSummedInFloat64() {
    int rows = 2;
    int cols = 1000;
    double value = 0.1; // not a float32 value: a float32 read would move the norm by ~1.5e-8

    double[] norms = DecoderNorms.of(new ConstantTensor(DType.F64, new long[] {rows, cols}, value));

    double expected = Math.sqrt(cols * value * value);
    for (double n : norms) {
      assertThat(n).isCloseTo(expected, within(1e-14));
      assertThat(Math.abs(n - Math.sqrt(cols) * (float) value)).isGreaterThan(1e-9);
    }
  }
}
