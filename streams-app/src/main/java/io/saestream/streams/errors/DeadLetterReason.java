package io.saestream.streams.errors;

import java.util.Locale;

/**
 * Why an input record went to the dead-letter topic. Written to the {@link
 * DeadLetterHeaders#REASON} header (the constant's name) and used as the {@code reason} tag of the
 * dead-letter metric ({@link #tagValue()}).
 */
public enum DeadLetterReason {
  /**
   * The bytes are not a Confluent-wire-format ActivationBatch: wrong magic byte, truncated or
   * malformed Avro, a writer schema that is not an ActivationBatch, or no value at all.
   */
  UNDECODABLE,
  /** The schema id in the record's header is not known to the schema registry. */
  UNKNOWN_SCHEMA_ID,
  /**
   * The {@code dtype} is a symbol this reader does not know (written by a newer producer); the
   * bytes cannot be interpreted.
   */
  UNKNOWN_DTYPE,
  /** {@code n_tokens} is 0, negative, or above {@code streams.max-tokens-per-record}. */
  N_TOKENS_OUT_OF_RANGE,
  /**
   * {@code start_position} is negative, or {@code token_ids}/{@code tokens} do not have n_tokens.
   */
  INVALID_METADATA,
  /** No SAE is deployed for the record's (model_id, hook_name). */
  NO_SAE_FOR_HOOK,
  /** {@code d_in} differs from the input width of the SAEs deployed for the hook. */
  D_IN_MISMATCH,
  /** {@code data} is not {@code n_tokens × d_in × sizeof(dtype)} bytes long. */
  DATA_LENGTH_MISMATCH,
  /** {@code data} holds a NaN or an infinity. */
  NON_FINITE_VALUES,
  /**
   * An unexpected exception while processing the record (a defect, not bad input): written by
   * {@link SaeProcessingExceptionHandler}; the record is kept for replay once fixed.
   */
  PROCESSING_FAILED;

  /** The metric tag value: the name in lower case with dashes, e.g. {@code non-finite-values}. */
  public String tagValue() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
