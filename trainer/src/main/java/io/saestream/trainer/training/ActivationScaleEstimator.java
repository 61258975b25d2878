package io.saestream.trainer.training;

/**
 * Estimates sae-lens's {@code expected_average_only_in} activation scale {@code s = √d_in /
 * mean‖x‖} from the first {@code tokens} activations seen; the trainer multiplies every training
 * batch by {@code s} and folds {@code s} out of the published SAE. Not thread-safe.
 */
public final class ActivationScaleEstimator {

  private final int dIn;
  private final long tokens;
  private long seen;
  private double sumNorm;
  private double scale = Double.NaN;

  /**
   * Creates an estimator that settles after {@code tokens} activations of width {@code dIn}.
   *
   * @param tokens tokens to average over, &gt; 0
   */
  public ActivationScaleEstimator(int dIn, long tokens) {
    if (dIn <= 0) {
      throw new IllegalArgumentException("d_in must be > 0, was " + dIn);
    }
    if (tokens <= 0) {
      throw new IllegalArgumentException("scale estimation tokens must be > 0, was " + tokens);
    }
    this.dIn = dIn;
    this.tokens = tokens;
  }

  /** An estimator that already settled on {@code scale} (resume). */
  public static ActivationScaleEstimator settled(int dIn, double scale) {
    if (!(scale > 0) || !Double.isFinite(scale)) {
      throw new IllegalArgumentException("activation scale must be finite and > 0, was " + scale);
    }
    ActivationScaleEstimator e = new ActivationScaleEstimator(dIn, 1);
    e.seen = 1;
    e.scale = scale;
    return e;
  }

  /** Observes rows {@code [offset, offset + n)} of {@code src} until the estimate settles. */
  public void observe(float[] src, int offset, int n) {
    for (int t = 0; t < n && !isSettled(); t++) {
      double sq = 0;
      int base = offset + t * dIn;
      for (int d = 0; d < dIn; d++) {
        sq += (double) src[base + d] * src[base + d];
      }
      sumNorm += Math.sqrt(sq);
      seen++;
      if (seen == tokens) {
        double mean = sumNorm / seen;
        if (!(mean > 0) || !Double.isFinite(mean)) {
          throw new IllegalStateException(
              "mean activation norm over the first " + seen + " tokens is " + mean);
        }
        scale = Math.sqrt(dIn) / mean;
      }
    }
  }

  /** Whether the estimate is final. */
  public boolean isSettled() {
    return seen >= tokens;
  }

  /**
   * The scale.
   *
   * @throws IllegalStateException before it settled
   */
  public double scale() {
    if (!isSettled()) {
      throw new IllegalStateException(
          "activation scale not estimated yet: " + seen + " of " + tokens + " tokens seen");
    }
    return scale;
  }
}
