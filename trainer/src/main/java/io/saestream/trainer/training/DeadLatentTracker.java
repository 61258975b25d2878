package io.saestream.trainer.training;

import java.util.Arrays;

/**
 * Which latents are dead: a latent is dead when it has not fired within the last {@code window}
 * training tokens (sae-lens's {@code dead_feature_window}, counted in tokens). Fed with each step's
 * {@code fired_counts}. Not thread-safe.
 */
public final class DeadLatentTracker {

  private final long window;
  private final long[] tokensSinceFired;

  /** Creates a tracker for {@code dSae} latents, none dead yet. */
  public DeadLatentTracker(int dSae, long window) {
    if (dSae <= 0) {
      throw new IllegalArgumentException("d_sae must be > 0, was " + dSae);
    }
    if (window <= 0) {
      throw new IllegalArgumentException("dead latent window must be > 0 tokens, was " + window);
    }
    this.window = window;
    this.tokensSinceFired = new long[dSae];
  }

  /**
   * Records a batch of {@code tokens} tokens in which latent j fired {@code firedCounts[j]} times.
   */
  public void record(long[] firedCounts, int tokens) {
    if (firedCounts.length != tokensSinceFired.length) {
      throw new IllegalArgumentException(
          "fired counts have "
              + firedCounts.length
              + " latents, expected "
              + tokensSinceFired.length);
    }
    for (int j = 0; j < firedCounts.length; j++) {
      tokensSinceFired[j] = firedCounts[j] > 0 ? 0 : tokensSinceFired[j] + tokens;
    }
  }

  /** Whether latent {@code j} is dead. */
  public boolean isDead(int j) {
    return tokensSinceFired[j] >= window;
  }

  /** The number of dead latents. */
  public int deadCount() {
    int n = 0;
    for (long t : tokensSinceFired) {
      if (t >= window) {
        n++;
      }
    }
    return n;
  }

  /** The fraction of dead latents. */
  public double deadFraction() {
    return (double) deadCount() / tokensSinceFired.length;
  }

  /** A copy of the per-latent token counts since the last firing (for the durable state). */
  public long[] tokensSinceFired() {
    return tokensSinceFired.clone();
  }

  /** Restores the counts saved by {@link #tokensSinceFired()}. */
  public void restore(long[] counts) {
    if (counts.length != tokensSinceFired.length) {
      throw new IllegalArgumentException(
          "saved counts have " + counts.length + " latents, expected " + tokensSinceFired.length);
    }
    System.arraycopy(counts, 0, tokensSinceFired, 0, counts.length);
  }

  @Override
  public String toString() {
    return "DeadLatentTracker[window="
        + window
        + ", dead="
        + deadCount()
        + "/"
        + tokensSinceFired.length
        + ", max idle="
        + Arrays.stream(tokensSinceFired).max().orElse(0)
        + "]";
  }
}
