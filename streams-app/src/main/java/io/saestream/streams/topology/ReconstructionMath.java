package io.saestream.streams.topology;

import java.nio.FloatBuffer;

/**
 * Batch-level reconstruction metrics that need the input (ARCHITECTURE.md §4). Accumulates in
 * double: a batch can hold millions of float32 values. Stateless.
 */
final class ReconstructionMath {

  private ReconstructionMath() {}

  /**
   * {@code Σ_t ‖x_t − x̄‖²} over the {@code n} rows of width {@code d} in {@code x} (from index 0),
   * with {@code x̄} the per-dimension mean over the rows: the denominator of the FVU.
   */
  static double totalSquaredDeviation(FloatBuffer x, int n, int d) {
    double[] mean = new double[d];
    for (int t = 0; t < n; t++) {
      int row = t * d;
      for (int j = 0; j < d; j++) {
        mean[j] += x.get(row + j);
      }
    }
    for (int j = 0; j < d; j++) {
      mean[j] /= n;
    }
    double total = 0;
    for (int t = 0; t < n; t++) {
      int row = t * d;
      for (int j = 0; j < d; j++) {
        double deviation = x.get(row + j) - mean[j];
        total += deviation * deviation;
      }
    }
    return total;
  }

  /**
   * FVU {@code = Σ sse / Σ ‖x − x̄‖²}; NaN when the batch has no variance (one token, or identical
   * tokens), where the fraction is undefined.
   */
  static double fractionOfVarianceUnexplained(double totalSse, double totalSquaredDeviation) {
    return totalSquaredDeviation > 0 ? totalSse / totalSquaredDeviation : Double.NaN;
  }
}
