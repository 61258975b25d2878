package io.saestream.streams.swap;

import java.util.Locale;

/**
 * Why a verified, reassembled checkpoint was still not swapped in: its contents. Transport and
 * integrity reasons are {@link io.saestream.schema.checkpoint.RejectionReason}s.
 */
public enum SwapRejectionReason {
  /** The SAE directory is invalid: cfg.json, tensor shapes, non-finite weights. */
  INVALID_CHECKPOINT,
  /** The manifest's architecture, d_in, d_sae or k disagree with the payload's cfg.json. */
  MANIFEST_MISMATCH,
  /** The checkpoint cannot replace the deployed SAE: another d_in, model or hook. */
  INCOMPATIBLE,
  /** Exporting, opening the session or the smoke inference failed. */
  LOAD_FAILED;

  /** The metric tag and log form, e.g. {@code invalid-checkpoint}. */
  public String tagValue() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
