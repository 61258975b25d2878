package io.saestream.sae.training;

/** What a training-step graph computes and returns; the input and output names are on each. */
public enum StepVariant {
  /**
   * The whole step: forward, backward, gradient-norm clipping and Adam. Extra inputs: the Adam
   * moments ({@link SaeParameter#firstMoment()}, {@link SaeParameter#secondMoment()}), {@code step}
   * (int64 scalar, the 1-based number of this update) and {@code lr} (float64 scalar). Outputs: the
   * losses, {@code grad_norm}, the updated parameters and moments ({@code *_next}), {@code
   * fired_counts}, {@code l0} and {@code min_positive_act}.
   */
  ADAM,
  /**
   * Forward and backward only, for parity tests and for callers that run their own optimiser: the
   * losses, {@code grad_norm}, the raw (unclipped) gradients ({@link SaeParameter#gradient()}),
   * {@code sae_out}, {@code fired_counts}, {@code l0} and {@code min_positive_act}.
   */
  GRADIENTS,
  /**
   * {@link #GRADIENTS} plus the dense {@code [B, d_sae]} tensors {@code feature_acts} and {@code
   * hidden_pre}: for tests on small problems only.
   */
  DEBUG
}
