package io.saestream.schema.checkpoint;

import io.saestream.schema.v1.TrainingMetrics;

/**
 * Evaluation of a checkpoint at publication time, carried in the manifest's {@code metrics}.
 *
 * @param step optimizer steps taken
 * @param tokensSeen training tokens consumed
 * @param fvu fraction of variance unexplained on the evaluation window
 * @param l0 mean number of non-zero latents per token on the evaluation window
 * @param deadFraction fraction of latents that did not fire within the dead-latent window
 */
public record TrainingStats(
    long step, long tokensSeen, double fvu, double l0, double deadFraction) {

  /** Validates the values. */
  public TrainingStats {
    if (step < 0) {
      throw new IllegalArgumentException("step must be >= 0, was " + step);
    }
    if (tokensSeen < 0) {
      throw new IllegalArgumentException("tokens_seen must be >= 0, was " + tokensSeen);
    }
    if (!Double.isFinite(fvu) || fvu < 0) {
      throw new IllegalArgumentException("fvu must be finite and >= 0, was " + fvu);
    }
    if (!Double.isFinite(l0) || l0 < 0) {
      throw new IllegalArgumentException("l0 must be finite and >= 0, was " + l0);
    }
    if (!(deadFraction >= 0 && deadFraction <= 1)) {
      throw new IllegalArgumentException("dead_fraction must be in [0, 1], was " + deadFraction);
    }
  }

  /** The wire form. */
  public TrainingMetrics toAvro() {
    return TrainingMetrics.newBuilder()
        .setStep(step)
        .setTokensSeen(tokensSeen)
        .setFvu(fvu)
        .setL0(l0)
        .setDeadFraction(deadFraction)
        .build();
  }
}
