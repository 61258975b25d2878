package io.saestream.trainer.training;

import java.util.Objects;

/**
 * The learning rate of each optimizer step: a linear warm-up from {@code lr/warmupSteps} to {@code
 * lr}, then a decay to {@code lr·finalFraction} over the next {@code decaySteps} steps, then
 * constant. Immutable.
 *
 * @param learningRate peak learning rate, finite and &gt; 0
 * @param warmupSteps steps of linear warm-up, &gt;= 0
 * @param decay the decay law after warm-up
 * @param decaySteps steps the decay takes; ignored for {@link Decay#NONE}, else &gt; 0
 * @param finalFraction the fraction of the peak reached at the end of the decay, in [0, 1]
 */
public record LearningRateSchedule(
    double learningRate, long warmupSteps, Decay decay, long decaySteps, double finalFraction) {

  /** How the learning rate falls after warm-up. */
  public enum Decay {
    /** Constant after warm-up (the online default: the stream has no end). */
    NONE,
    /** Cosine from the peak to {@code finalFraction·peak}. */
    COSINE,
    /** Straight line from the peak to {@code finalFraction·peak}. */
    LINEAR
  }

  /** Validates every field. */
  public LearningRateSchedule {
    Objects.requireNonNull(decay, "decay");
    if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
      throw new IllegalArgumentException("lr must be finite and > 0, was " + learningRate);
    }
    if (warmupSteps < 0) {
      throw new IllegalArgumentException("warmup_steps must be >= 0, was " + warmupSteps);
    }
    if (decay != Decay.NONE && decaySteps <= 0) {
      throw new IllegalArgumentException(
          "decay_steps must be > 0 for " + decay + " decay, was " + decaySteps);
    }
    if (!(finalFraction >= 0 && finalFraction <= 1)) {
      throw new IllegalArgumentException("final_fraction must be in [0, 1], was " + finalFraction);
    }
  }

  /** A constant rate with no warm-up. */
  public static LearningRateSchedule constant(double learningRate) {
    return new LearningRateSchedule(learningRate, 0, Decay.NONE, 0, 1.0);
  }

  /** The rate of the 1-based optimizer step {@code step}. */
  public double at(long step) {
    if (step < 1) {
      throw new IllegalArgumentException("step must be >= 1, was " + step);
    }
    if (step <= warmupSteps) {
      return learningRate * step / warmupSteps;
    }
    if (decay == Decay.NONE) {
      return learningRate;
    }
    double progress = Math.min(1.0, (double) (step - warmupSteps) / decaySteps);
    double factor =
        decay == Decay.COSINE ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1.0 - progress;
    return learningRate * (finalFraction + (1 - finalFraction) * factor);
  }
}
