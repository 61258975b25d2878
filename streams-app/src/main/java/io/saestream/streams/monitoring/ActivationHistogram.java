package io.saestream.streams.monitoring;

import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * Counts of a latent's activations (only when it fires, so values are {@code > 0}) in fixed bins,
 * the same for every SAE so that histograms of windows, tasks and instances add up: bin 0 is [0,
 * 2⁻⁶), then half-octave bins [2^(k/2), 2^((k+1)/2)) from 2⁻⁶ to 2⁸ = 256; values of 256 and more
 * are counted in the last bin (its upper edge is reported as 256). Immutable and thread-safe.
 */
public final class ActivationHistogram {

  /** Bin edges, ascending: {@code EDGES.length == BINS + 1}. */
  private static final double[] EDGES = edges();

  /** Number of bins. */
  public static final int BINS = EDGES.length - 1;

  private static final ActivationHistogram EMPTY = new ActivationHistogram(new long[BINS]);

  private final long[] counts;

  private ActivationHistogram(long[] counts) {
    this.counts = counts;
  }

  /** No counts. */
  public static ActivationHistogram empty() {
    return EMPTY;
  }

  /** The histogram of {@code counts} (one per bin, each ≥ 0). */
  public static ActivationHistogram of(long... counts) {
    if (counts.length != BINS) {
      throw new IllegalArgumentException(
          "a histogram has " + BINS + " bins, was given " + counts.length);
    }
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] < 0) {
        throw new IllegalArgumentException("bin " + i + " must count >= 0, was " + counts[i]);
      }
    }
    return new ActivationHistogram(counts.clone());
  }

  /** The bin edges, ascending ({@link #BINS} + 1 values). */
  public static double[] binEdges() {
    return EDGES.clone();
  }

  /** The bin of activation {@code value}: the last edge ≤ value, clamped to [0, BINS). */
  public static int bin(double value) {
    int i = Arrays.binarySearch(EDGES, value);
    int bin = i >= 0 ? i : -i - 2;
    return Math.max(0, Math.min(BINS - 1, bin));
  }

  /** The count of bin {@code i}. */
  public long count(int i) {
    return counts[i];
  }

  /** The counts, one per bin (a copy). */
  public long[] counts() {
    return counts.clone();
  }

  /** The sum of the counts. */
  public long total() {
    long t = 0;
    for (long c : counts) {
      t += c;
    }
    return t;
  }

  /** This histogram plus {@code other}. */
  public ActivationHistogram plus(ActivationHistogram other) {
    long[] sum = counts.clone();
    for (int i = 0; i < BINS; i++) {
      sum[i] += other.counts[i];
    }
    return new ActivationHistogram(sum);
  }

  /**
   * This histogram plus {@code n} sparse increments: {@code counts[k]} in {@code bins[from + k]}.
   */
  ActivationHistogram plus(byte[] bins, int[] increments, int from, int to) {
    if (from == to) {
      return this;
    }
    long[] sum = counts.clone();
    for (int k = from; k < to; k++) {
      sum[bins[k]] += increments[k];
    }
    return new ActivationHistogram(sum);
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof ActivationHistogram h && Arrays.equals(counts, h.counts);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(counts);
  }

  @Override
  public String toString() {
    return "ActivationHistogram" + Arrays.toString(counts);
  }

  private static double[] edges() {
    // 0, then 2^(k/2) for k = -12 .. 16.
    double[] e = new double[30];
    e[0] = 0;
    for (int k = -12; k <= 16; k++) {
      e[k + 13] = Math.pow(2, k / 2.0);
    }
    return e;
  }
}
