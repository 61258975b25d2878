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

  /**
   * An estimator in the state {@link #observed()}, {@link #sumOfNorms()} and {@link #scaleOrNaN()}
   * described when they were saved (resume): settled on {@code scale} when it is a number, else
   * still averaging (and settled at once when {@code observed} already reaches {@code tokens}).
   *
   * @throws IllegalArgumentException when the saved values are out of range
   */
  public static ActivationScaleEstimator resume(
      int dIn, long tokens, long observed, double sumOfNorms, double scale) {
    if (observed < 0 || !(sumOfNorms >= 0) || !Double.isFinite(sumOfNorms)) {
      throw new IllegalArgumentException(
          "saved scale estimate must have observed >= 0 and a finite sum of norms >= 0, was "
              + observed
              + " and "
              + sumOfNorms);
    }
    if (!Double.isNaN(scale)) {
      ActivationScaleEstimator e = settled(dIn, scale);
      e.seen = Math.max(observed, 1);
      e.sumNorm = sumOfNorms;
      return e;
    }
    ActivationScaleEstimator e = new ActivationScaleEstimator(dIn, tokens);
    e.seen = observed;
    e.sumNorm = sumOfNorms;
    if (e.isSettled()) {
      e.settle();
    }
    return e;
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
        settle();
      }
    }
  }

  private void settle() {
    double mean = sumNorm / seen;
    if (!(mean > 0) || !Double.isFinite(mean)) {
      throw new IllegalStateException(
          "mean activation norm over the first " + seen + " tokens is " + mean);
    }
    scale = Math.sqrt(dIn) / mean;
  }

  /** Tokens averaged so far (for the durable state). */
  public long observed() {
    return seen;
  }

  /** The sum of their norms (for the durable state). */
  public double sumOfNorms() {
    return sumNorm;
  }

  /** The scale, NaN while not settled (for the durable state). */
  public double scaleOrNaN() {
    return scale;
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
