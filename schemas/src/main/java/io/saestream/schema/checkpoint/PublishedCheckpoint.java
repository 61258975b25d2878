package io.saestream.schema.checkpoint;

import java.util.Objects;

/**
 * A checkpoint committed to the checkpoints topic.
 *
 * @param saeId the SAE
 * @param version its version
 * @param payloadSha256 SHA-256 of the payload, lowercase hex
 * @param payloadSize payload bytes
 * @param chunkCount number of chunk records
 * @param partition the partition all its records went to
 * @param tombstones chunk keys of the superseded version deleted in the same transaction
 */
public record PublishedCheckpoint(
    String saeId,
    long version,
    String payloadSha256,
    long payloadSize,
    int chunkCount,
    int partition,
    int tombstones) {

  /** Validates the fields. */
  public PublishedCheckpoint {
    Objects.requireNonNull(saeId, "saeId");
    Objects.requireNonNull(payloadSha256, "payloadSha256");
    if (chunkCount <= 0) {
      throw new IllegalArgumentException("chunk_count must be > 0, was " + chunkCount);
    }
    if (partition < 0) {
      throw new IllegalArgumentException("partition must be >= 0, was " + partition);
    }
  }
}
