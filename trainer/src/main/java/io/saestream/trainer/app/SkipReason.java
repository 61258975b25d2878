package io.saestream.trainer.app;

/** Why the trainer skipped an activations record; each is counted. */
public enum SkipReason {
  /** The value is not a decodable ActivationBatch (tombstone, bad wire format, unknown schema). */
  UNDECODABLE,
  /** No configured trainer learns from its (model_id, hook_name). */
  UNKNOWN_ROUTE,
  /** Its d_in differs from the trainer's. */
  D_IN_MISMATCH,
  /** Its data does not hold n_tokens × d_in values of its dtype. */
  BAD_SHAPE,
  /** It holds NaN or infinite values. */
  NON_FINITE
}
