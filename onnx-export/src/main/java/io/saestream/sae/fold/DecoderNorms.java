package io.saestream.sae.fold;

import io.saestream.sae.checkpoint.DType;
import io.saestream.sae.checkpoint.HalfPrecision;
import io.saestream.sae.checkpoint.Tensor;

/**
 * The L2 norms of the rows of {@code W_dec} as sae-lens computes them for folding: {@code
 * W_dec.norm(dim=-1).clamp(min=1e-8)}, a tensor of W_dec's dtype. Sums of squares are accumulated
 * in float64 (one streaming pass) and the norm rounded once to the dtype. Stateless.
 */
final class DecoderNorms {

  /** sae-lens clamps the norms at this value before dividing by them. */
  static final double MIN_NORM = 1e-8;

  private static final int BLOCK = 1 << 16;

  private DecoderNorms() {}

  /** One norm per row of the matrix {@code wDec}, each representable in its dtype. */
  static double[] of(Tensor wDec) {
    long[] shape = wDec.shape();
    if (shape.length != 2) {
      throw new IllegalArgumentException("W_dec must be a matrix");
    }
    int rows = Math.toIntExact(shape[0]);
    int cols = Math.toIntExact(shape[1]);
    DType dtype = wDec.dtype();
    double[] sums = new double[rows];
    // Whole rows per read when they fit in a block (the usual case), else each row in pieces.
    int rowsPerRead = Math.max(1, BLOCK / Math.max(cols, 1));
    int piece = Math.max(1, Math.min(cols, BLOCK));
    // F64 weights are read as float64; the others as float32, which holds F32, F16 and BF16
    // exactly at half the memory traffic.
    boolean f64 = dtype == DType.F64;
    float[] floats = new float[f64 ? 0 : rowsPerRead * piece];
    double[] doubles = new double[f64 ? rowsPerRead * piece : 0];
    for (int r0 = 0; r0 < rows; r0 += rowsPerRead) {
      int nr = Math.min(rowsPerRead, rows - r0);
      for (int c0 = 0; c0 < cols; c0 += piece) {
        int m = Math.min(piece, cols - c0);
        long start = nr > 1 ? (long) r0 * cols : (long) r0 * cols + c0;
        int length = nr > 1 ? nr * cols : m;
        if (f64) {
          wDec.readDoubles(start, doubles, 0, length);
        } else {
          wDec.readFloats(start, floats, 0, length);
        }
        for (int r = 0; r < nr; r++) {
          sums[r0 + r] += f64 ? sumOfSquares(doubles, r * m, m) : sumOfSquares(floats, r * m, m);
        }
      }
    }
    double[] norms = new double[rows];
    if (f64) {
      for (int r = 0; r < rows; r++) {
        norms[r] = Math.max(Math.sqrt(sums[r]), MIN_NORM);
      }
    } else {
      float min = HalfPrecision.roundTo(dtype, (float) MIN_NORM);
      for (int r = 0; r < rows; r++) {
        float norm = HalfPrecision.roundTo(dtype, (float) Math.sqrt(sums[r]));
        norms[r] = Math.max(norm, min);
      }
    }
    return norms;
  }

  /** Sum of squares in float64, four independent accumulators (no loop-carried stall). */
  private static double sumOfSquares(float[] v, int from, int n) {
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    int i = from;
    int end = from + n;
    for (; i + 3 < end; i += 4) {
      double a = v[i];
      double b = v[i + 1];
      double c = v[i + 2];
      double d = v[i + 3];
      s0 += a * a;
      s1 += b * b;
      s2 += c * c;
      s3 += d * d;
    }
    for (; i < end; i++) {
      double a = v[i];
      s0 += a * a;
    }
    return (s0 + s1) + (s2 + s3);
  }

  private static double sumOfSquares(double[] v, int from, int n) {
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    int i = from;
    int end = from + n;
    for (; i + 3 < end; i += 4) {
      s0 += v[i] * v[i];
      s1 += v[i + 1] * v[i + 1];
      s2 += v[i + 2] * v[i + 2];
      s3 += v[i + 3] * v[i + 3];
    }
    for (; i < end; i++) {
      s0 += v[i] * v[i];
    }
    return (s0 + s1) + (s2 + s3);
  }

  /**
   * Whether every norm is 1 up to the rounding a normalised row of this dtype shows (4 units in the
   * last place: 2.4e-7 for F32), i.e. the decoder is already folded.
   */
  static boolean allUnit(double[] norms, DType dtype) {
    double tolerance = 4 * unitRoundoff(dtype);
    for (double n : norms) {
      if (!(Math.abs(n - 1) <= tolerance)) {
        return false;
      }
    }
    return true;
  }

  private static double unitRoundoff(DType dtype) {
    return switch (dtype) {
      case F64 -> 0x1p-53;
      case F32 -> 0x1p-24;
      case F16 -> 0x1p-11;
      case BF16 -> 0x1p-8;
    };
  }
}
