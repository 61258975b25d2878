package io.saestream.sae.training;

/**
 * The global threshold a BatchTopK SAE learns during training and is served with (as a JumpReLU):
 * an exponential moving average of the smallest activation each batch kept, kept in float64 as
 * sae-lens's {@code topk_threshold} buffer. Immutable; {@link #update} returns the next value.
 *
 * @param value the current threshold; sae-lens starts at 0
 * @param learningRate the EMA rate ({@code topk_threshold_lr}), in (0, 1]; sae-lens default 0.01
 */
public record BatchTopKThreshold(double value, double learningRate) {

  /** sae-lens's default {@code topk_threshold_lr}. */
  public static final double SAE_LENS_LEARNING_RATE = 0.01;

  /** Validates both fields. */
  public BatchTopKThreshold {
    if (!Double.isFinite(value) || value < 0) {
      throw new IllegalArgumentException("threshold must be finite and >= 0, was " + value);
    }
    if (!(learningRate > 0 && learningRate <= 1)) {
      throw new IllegalArgumentException(
          "threshold learning rate must be in (0, 1], was " + learningRate);
    }
  }

  /** The threshold sae-lens starts training with: 0, rate 0.01. */
  public static BatchTopKThreshold initial() {
    return new BatchTopKThreshold(0.0, SAE_LENS_LEARNING_RATE);
  }

  /**
   * The threshold after a step whose graph reported {@code minPositiveAct} (the {@code
   * min_positive_act} output): {@code (1 − lr)·value + lr·minPositiveAct}, or unchanged when the
   * batch kept no positive activation ({@code +∞}), as sae-lens skips the update then.
   *
   * @throws IllegalArgumentException if {@code minPositiveAct} is NaN, −∞ or not positive
   */
  public BatchTopKThreshold update(double minPositiveAct) {
    if (minPositiveAct == Double.POSITIVE_INFINITY) {
      return this;
    }
    if (!(minPositiveAct > 0)) {
      throw new IllegalArgumentException(
          "min positive activation must be > 0 or +Infinity, was " + minPositiveAct);
    }
    return new BatchTopKThreshold(
        (1 - learningRate) * value + learningRate * minPositiveAct, learningRate);
  }
}
