package io.saestream.synthetic;

/**
 * Parameters of a {@link GroundTruthModel}: the dictionary's shape, how often and how strongly its
 * features fire, and how much noise and offset lie on top. Immutable and validated on construction.
 *
 * @param dIn width of an activation vector
 * @param features number of ground-truth feature directions; more than {@code dIn} puts them in
 *     superposition
 * @param seed seed of everything random about the model (directions, offset)
 * @param zipfExponent α of the Zipf-like firing law {@code p_i ∝ 1/(i+1)^α}; 0 makes every feature
 *     equally frequent
 * @param meanActive expected number of active features per token (the target L0)
 * @param maxFiringProbability cap on any one feature's firing probability, so that a steep law with
 *     a large target L0 does not make the first features fire on every token
 * @param magnitudeScale s of the magnitude law {@code m = s·(1 + E)}, {@code E ~ Exponential(1)}:
 *     magnitudes are at least s, with mean 2s
 * @param snr signal-to-noise power ratio, {@code E‖signal‖² / E‖noise‖²} over the base distribution
 *     (linear, not dB); {@link Double#POSITIVE_INFINITY} means no noise
 * @param offsetNorm norm of a constant offset added to every token, as real residual streams have a
 *     non-zero mean; 0 for none
 */
public record GroundTruthConfig(
    int dIn,
    int features,
    long seed,
    double zipfExponent,
    double meanActive,
    double maxFiringProbability,
    double magnitudeScale,
    double snr,
    double offsetNorm) {

  /** Default {@link #zipfExponent()}. */
  public static final double DEFAULT_ZIPF_EXPONENT = 1.0;

  /** Default {@link #meanActive()}. */
  public static final double DEFAULT_MEAN_ACTIVE = 8.0;

  /** Default {@link #maxFiringProbability()}. */
  public static final double DEFAULT_MAX_FIRING_PROBABILITY = 0.5;

  /** Default {@link #magnitudeScale()}. */
  public static final double DEFAULT_MAGNITUDE_SCALE = 1.0;

  /** Default {@link #snr()}: 20, i.e. 13 dB. */
  public static final double DEFAULT_SNR = 20.0;

  /** Validates every field against the others. */
  public GroundTruthConfig {
    if (dIn <= 0) {
      throw new IllegalArgumentException("d_in must be > 0, was " + dIn);
    }
    if (features <= 0) {
      throw new IllegalArgumentException("features must be > 0, was " + features);
    }
    if (!(zipfExponent >= 0) || Double.isInfinite(zipfExponent)) {
      throw new IllegalArgumentException(
          "zipf exponent must be finite and >= 0, was " + zipfExponent);
    }
    if (!(maxFiringProbability > 0 && maxFiringProbability <= 1)) {
      throw new IllegalArgumentException(
          "max firing probability must be in (0, 1], was " + maxFiringProbability);
    }
    if (!(meanActive > 0) || meanActive > maxFiringProbability * features) {
      throw new IllegalArgumentException(
          "mean active features must be in (0, features × max firing probability = "
              + maxFiringProbability * features
              + "], was "
              + meanActive);
    }
    if (!(magnitudeScale > 0) || Double.isInfinite(magnitudeScale)) {
      throw new IllegalArgumentException(
          "magnitude scale must be finite and > 0, was " + magnitudeScale);
    }
    if (!(snr > 0)) {
      throw new IllegalArgumentException("snr must be > 0 (infinity for no noise), was " + snr);
    }
    if (!(offsetNorm >= 0) || Double.isInfinite(offsetNorm)) {
      throw new IllegalArgumentException("offset norm must be finite and >= 0, was " + offsetNorm);
    }
  }

  /** The defaults for a dictionary of {@code features} directions in R^{@code dIn}. */
  public static GroundTruthConfig defaults(int dIn, int features, long seed) {
    return new GroundTruthConfig(
        dIn,
        features,
        seed,
        DEFAULT_ZIPF_EXPONENT,
        Math.min(DEFAULT_MEAN_ACTIVE, DEFAULT_MAX_FIRING_PROBABILITY * features),
        DEFAULT_MAX_FIRING_PROBABILITY,
        DEFAULT_MAGNITUDE_SCALE,
        DEFAULT_SNR,
        0.0);
  }

  /** A copy with another Zipf exponent. */
  public GroundTruthConfig withZipfExponent(double alpha) {
    return new GroundTruthConfig(
        dIn,
        features,
        seed,
        alpha,
        meanActive,
        maxFiringProbability,
        magnitudeScale,
        snr,
        offsetNorm);
  }

  /** A copy with another target L0. */
  public GroundTruthConfig withMeanActive(double l0) {
    return new GroundTruthConfig(
        dIn,
        features,
        seed,
        zipfExponent,
        l0,
        maxFiringProbability,
        magnitudeScale,
        snr,
        offsetNorm);
  }

  /** A copy with another firing-probability cap. */
  public GroundTruthConfig withMaxFiringProbability(double cap) {
    return new GroundTruthConfig(
        dIn, features, seed, zipfExponent, meanActive, cap, magnitudeScale, snr, offsetNorm);
  }

  /** A copy with another magnitude scale. */
  public GroundTruthConfig withMagnitudeScale(double scale) {
    return new GroundTruthConfig(
        dIn,
        features,
        seed,
        zipfExponent,
        meanActive,
        maxFiringProbability,
        scale,
        snr,
        offsetNorm);
  }

  /** A copy with another signal-to-noise ratio. */
  public GroundTruthConfig withSnr(double ratio) {
    return new GroundTruthConfig(
        dIn,
        features,
        seed,
        zipfExponent,
        meanActive,
        maxFiringProbability,
        magnitudeScale,
        ratio,
        offsetNorm);
  }

  /** A copy with another offset norm. */
  public GroundTruthConfig withOffsetNorm(double norm) {
    return new GroundTruthConfig(
        dIn,
        features,
        seed,
        zipfExponent,
        meanActive,
        maxFiringProbability,
        magnitudeScale,
        snr,
        norm);
  }
}
