package io.saestream.sae.checkpoint;

import java.util.Arrays;

/**
 * Finds the first NaN or infinite element of a tensor, streaming it in fixed-size blocks (one bulk
 * copy plus one compare per element: memory-bandwidth bound, GB/s on mapped F32 data). Values are
 * checked as sae-lens will use them: an F64 value too large for float32 counts as infinite, since
 * sae-lens casts to the cfg dtype on load. Stateless.
 */
final class NonFiniteScan {

  private static final int BLOCK = 1 << 16;

  private NonFiniteScan() {}

  /** The flat index of the first non-finite element, or -1. */
  static long firstNonFinite(Tensor t) {
    long n = t.numel();
    float[] buf = new float[(int) Math.min(n, BLOCK)];
    for (long start = 0; start < n; start += buf.length) {
      int len = (int) Math.min(buf.length, n - start);
      t.readFloats(start, buf, 0, len);
      for (int i = 0; i < len; i++) {
        if (!Float.isFinite(buf[i])) {
          return start + i;
        }
      }
    }
    return -1;
  }

  /** How the element at {@code index} reads: "NaN", "Infinity", or a finite F64 that overflows. */
  static String describe(Tensor t, long index) {
    double[] v = new double[1];
    t.readDoubles(index, v, 0, 1);
    if (Double.isNaN(v[0]) || Double.isInfinite(v[0])) {
      return String.valueOf(v[0]);
    }
    return v[0] + " (overflows float32)";
  }

  /** {@code flat} as a multi-dimensional index into {@code shape}, e.g. {@code [3, 17]}. */
  static String unravel(long flat, long[] shape) {
    long[] idx = new long[shape.length];
    long rest = flat;
    for (int d = shape.length - 1; d >= 0; d--) {
      if (shape[d] > 0) {
        idx[d] = rest % shape[d];
        rest /= shape[d];
      }
    }
    return Arrays.toString(idx);
  }
}
