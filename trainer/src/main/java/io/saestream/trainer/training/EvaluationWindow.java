package io.saestream.trainer.training;

import java.util.ArrayList;
import java.util.List;

/**
 * Accumulates the sums behind an {@link EvaluationReport} over held-out batches, in float64: the
 * squared reconstruction error, the per-dimension first and second moments of x (so FVU is centred
 * on the window's mean, as ARCHITECTURE §4 defines it), the firing counts and L0. Not thread-safe.
 */
public final class EvaluationWindow {

  /** Buckets of {@link EvaluationReport#densityHistogram()}. */
  public static final int DENSITY_BUCKETS = 8;

  private final int dIn;
  private final double[] sumX;
  private final double[] sumSqX;
  private final long[] fired;
  private double sse;
  private double l0Sum;
  private long tokens;

  /** An empty window. */
  public EvaluationWindow(int dIn, int dSae) {
    this.dIn = dIn;
    this.sumX = new double[dIn];
    this.sumSqX = new double[dIn];
    this.fired = new long[dSae];
  }

  /**
   * Adds a batch: {@code x} and its reconstruction {@code xHat}, both row-major {@code [tokens,
   * d_in]}, the batch's mean L0 and per-latent firing counts.
   */
  public void add(float[] x, float[] xHat, int batchTokens, double meanL0, long[] firedCounts) {
    for (int t = 0; t < batchTokens; t++) {
      int base = t * dIn;
      for (int d = 0; d < dIn; d++) {
        double v = x[base + d];
        double r = v - xHat[base + d];
        sse += r * r;
        sumX[d] += v;
        sumSqX[d] += v * v;
      }
    }
    for (int j = 0; j < fired.length; j++) {
      fired[j] += firedCounts[j];
    }
    l0Sum += meanL0 * batchTokens;
    tokens += batchTokens;
  }

  /** Tokens evaluated so far. */
  public long tokens() {
    return tokens;
  }

  /** The report of this window; {@code deadFraction} comes from the training-side tracker. */
  public EvaluationReport report(double deadFraction) {
    double centred = 0;
    for (int d = 0; d < dIn; d++) {
      centred += sumSqX[d] - sumX[d] * sumX[d] / Math.max(tokens, 1);
    }
    double fvu = tokens == 0 ? Double.NaN : sse / centred;
    int[] histogram = new int[DENSITY_BUCKETS];
    for (long f : fired) {
      histogram[bucket(f)]++;
    }
    List<Integer> buckets = new ArrayList<>();
    for (int h : histogram) {
      buckets.add(h);
    }
    return new EvaluationReport(
        tokens, fvu, tokens == 0 ? 0 : l0Sum / tokens, deadFraction, buckets);
  }

  /** log10 firing density of each latent over the window ({@code log10(density + 1e-10)}). */
  public float[] logDensities() {
    float[] out = new float[fired.length];
    for (int j = 0; j < fired.length; j++) {
      out[j] = (float) Math.log10((double) fired[j] / Math.max(tokens, 1) + 1e-10);
    }
    return out;
  }

  /**
   * The running sums of a window (for the durable state); arrays owned by the record.
   *
   * @param sumX per dimension, Σx
   * @param sumSqX per dimension, Σx²
   * @param fired per latent, firings
   * @param sse Σ‖x−x̂‖²
   * @param l0Sum Σ L0 over tokens
   * @param tokens tokens evaluated
   */
  @SuppressWarnings("ArrayRecordComponent") // copied in and out by the window, never shared
  public record Sums(
      double[] sumX, double[] sumSqX, long[] fired, double sse, double l0Sum, long tokens) {

    /** Checks that the arrays have one shape. */
    public Sums {
      if (sumX.length != sumSqX.length) {
        throw new IllegalArgumentException(
            "sum_x and sum_sq_x must have one length, were " + sumX.length + ", " + sumSqX.length);
      }
      if (tokens < 0) {
        throw new IllegalArgumentException("tokens must be >= 0, was " + tokens);
      }
    }
  }

  /** A copy of the running sums. */
  public Sums sums() {
    return new Sums(sumX.clone(), sumSqX.clone(), fired.clone(), sse, l0Sum, tokens);
  }

  /**
   * Replaces the running sums with {@code saved}.
   *
   * @throws IllegalArgumentException when they are for another d_in or d_sae
   */
  public void restore(Sums saved) {
    if (saved.sumX().length != sumX.length || saved.fired().length != fired.length) {
      throw new IllegalArgumentException(
          "saved evaluation window is for d_in="
              + saved.sumX().length
              + ", d_sae="
              + saved.fired().length
              + "; this one is for d_in="
              + sumX.length
              + ", d_sae="
              + fired.length);
    }
    System.arraycopy(saved.sumX(), 0, sumX, 0, sumX.length);
    System.arraycopy(saved.sumSqX(), 0, sumSqX, 0, sumSqX.length);
    System.arraycopy(saved.fired(), 0, fired, 0, fired.length);
    sse = saved.sse();
    l0Sum = saved.l0Sum();
    tokens = saved.tokens();
  }

  /** Empties the window. */
  public void reset() {
    java.util.Arrays.fill(sumX, 0);
    java.util.Arrays.fill(sumSqX, 0);
    java.util.Arrays.fill(fired, 0);
    sse = 0;
    l0Sum = 0;
    tokens = 0;
  }

  private int bucket(long firings) {
    if (firings == 0) {
      return 0;
    }
    double density = (double) firings / tokens;
    int b = (int) Math.floor(Math.log10(density)) + 7;
    return Math.max(1, Math.min(DENSITY_BUCKETS - 1, b));
  }
}
