package io.saestream.schema.checkpoint;

import java.util.Locale;

/**
 * Why a checkpoint was not accepted from the topic, before its contents are looked at: the record
 * layer, the manifest, the chunks, the digests, the signature or the archive.
 */
public enum RejectionReason {
  /** A record of the topic is not a decodable manifest or chunk. */
  MALFORMED_RECORD,
  /** The manifest's fields are invalid or inconsistent (size, chunk count, digest form...). */
  MALFORMED_MANIFEST,
  /** The version is not greater than the one served, or a newer manifest was already seen. */
  STALE_VERSION,
  /** A signing key is configured but the manifest carries no signature. */
  UNSIGNED,
  /** The manifest's signature does not match its fields under the configured key. */
  BAD_SIGNATURE,
  /** The payload is larger than allowed, or buffering it would exceed the memory bound. */
  TOO_LARGE,
  /** A chunk disagrees with its manifest or siblings (count, index, oversize data). */
  CHUNK_MISMATCH,
  /** A chunk's data does not match its own chunk_sha256. */
  BAD_CHUNK_SHA256,
  /** A chunk holds fewer bytes than its position in the payload requires. */
  TRUNCATED_CHUNK,
  /** Chunks were still missing when the assembly timeout ran out. */
  MISSING_CHUNK,
  /** The reassembled payload does not match the manifest's payload_sha256. */
  BAD_SHA256,
  /** The payload is not a safe zip of exactly cfg.json and sae_weights.safetensors. */
  BAD_ARCHIVE;

  /** The metric tag and log form, e.g. {@code bad-sha256}. */
  public String tagValue() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
