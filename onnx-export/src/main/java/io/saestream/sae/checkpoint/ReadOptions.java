package io.saestream.sae.checkpoint;

/**
 * How strictly {@link SaeCheckpoint#open(java.nio.file.Path, ReadOptions)} checks a checkpoint. The
 * defaults are for serving: every weight must be finite and the activation scale folded. Immutable.
 *
 * @param allowNonFinite skip the NaN/Inf scan of the weights (faster to open; for debugging tools)
 * @param allowUnfoldedActivationScale accept {@code normalize_activations:
 *     "expected_average_only_in"}, i.e. weights that expect {@code s * x}; for training and folding
 *     tools that fold the scale themselves
 */
public record ReadOptions(boolean allowNonFinite, boolean allowUnfoldedActivationScale) {

  private static final ReadOptions DEFAULTS = new ReadOptions(false, false);

  /** Finite weights required, unfolded activation scale refused. */
  public static ReadOptions defaults() {
    return DEFAULTS;
  }

  /** A copy with {@link #allowNonFinite()} set to {@code allow}. */
  public ReadOptions withAllowNonFinite(boolean allow) {
    return new ReadOptions(allow, allowUnfoldedActivationScale);
  }

  /** A copy with {@link #allowUnfoldedActivationScale()} set to {@code allow}. */
  public ReadOptions withAllowUnfoldedActivationScale(boolean allow) {
    return new ReadOptions(allowNonFinite, allow);
  }
}
