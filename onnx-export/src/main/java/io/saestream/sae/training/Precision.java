package io.saestream.sae.training;

/** Element type of every real tensor of a training-step graph (except {@code lr}, always f64). */
public enum Precision {
  /** The production precision, as sae-lens trains by default. */
  FLOAT32,
  /** For finite-difference checks of the hand-derived backward. */
  FLOAT64
}
