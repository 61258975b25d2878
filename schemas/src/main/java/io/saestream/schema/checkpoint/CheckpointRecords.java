package io.saestream.schema.checkpoint;

import io.saestream.schema.v1.SaeCheckpoint;
import io.saestream.schema.v1.SaeCheckpointChunk;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Builds the manifest and chunk records of a checkpoint exactly as {@link CheckpointPublisher}
 * publishes them; public so that tools and tests can write their own (for example deliberately
 * corrupted) checkpoints. Stateless.
 */
public final class CheckpointRecords {

  /** Largest chunk, 512 KiB, as the schema documents. */
  public static final int MAX_CHUNK_BYTES = 512 * 1024;

  /** The only payload format: a zip of cfg.json and sae_weights.safetensors. */
  public static final String PAYLOAD_FORMAT = "zip";

  private CheckpointRecords() {}

  /** The number of chunks of {@code chunkSize} bytes a payload of {@code size} bytes needs. */
  public static int chunkCount(long size, int chunkSize) {
    requireChunkSize(chunkSize);
    if (size <= 0) {
      throw new IllegalArgumentException("payload size must be > 0, was " + size);
    }
    long count = (size + chunkSize - 1) / chunkSize;
    if (count > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "payload of " + size + " bytes needs more than " + Integer.MAX_VALUE + " chunks");
    }
    return (int) count;
  }

  /** Chunk {@code index} of {@code count}, with the SHA-256 of {@code data} (not copied). */
  public static SaeCheckpointChunk chunk(
      String saeId, long version, int index, int count, byte[] data) {
    Objects.requireNonNull(data, "data");
    return SaeCheckpointChunk.newBuilder()
        .setSaeId(saeId)
        .setVersion(version)
        .setIndex(index)
        .setCount(count)
        .setData(ByteBuffer.wrap(data))
        .setChunkSha256(Sha256.hex(data))
        .build();
  }

  /** Every chunk of an in-memory payload, in order. */
  public static List<SaeCheckpointChunk> split(
      String saeId, long version, byte[] payload, int chunkSize) {
    int count = chunkCount(payload.length, chunkSize);
    List<SaeCheckpointChunk> chunks = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int from = i * chunkSize;
      byte[] data = Arrays.copyOfRange(payload, from, Math.min(payload.length, from + chunkSize));
      chunks.add(chunk(saeId, version, i, count, data));
    }
    return chunks;
  }

  /**
   * The manifest of {@code release} whose payload has the given digest and size, split in chunks of
   * {@code chunkSize}; signed when {@code key} is not null.
   */
  public static SaeCheckpoint manifest(
      CheckpointRelease release,
      String payloadSha256,
      long payloadSize,
      int chunkSize,
      @Nullable HmacKey key,
      Instant createdAt) {
    Objects.requireNonNull(release, "release");
    Objects.requireNonNull(payloadSha256, "payloadSha256");
    Objects.requireNonNull(createdAt, "createdAt");
    if (!Sha256.isHex(payloadSha256)) {
      throw new IllegalArgumentException(
          "payload_sha256 must be 64 lowercase hex digits, was '" + payloadSha256 + "'");
    }
    // Optional fields are left unset rather than set to null: their schema default is null.
    SaeCheckpoint.Builder builder =
        SaeCheckpoint.newBuilder()
            .setSaeId(release.saeId())
            .setVersion(release.version())
            .setArchitecture(release.architecture())
            .setDIn(release.dIn())
            .setDSae(release.dSae())
            .setCfgJson(release.cfgJson())
            .setPayloadFormat(PAYLOAD_FORMAT)
            .setPayloadSha256(payloadSha256)
            .setPayloadSize(payloadSize)
            .setChunkCount(chunkCount(payloadSize, chunkSize))
            .setChunkSize(chunkSize)
            .setCreatedAt(createdAt);
    Integer k = release.k();
    if (k != null) {
      builder.setK(k);
    }
    TrainingStats training = release.training();
    if (training != null) {
      builder.setMetrics(training.toAvro());
    }
    if (key != null) {
      builder.setHmacSignature(
          ByteBuffer.wrap(
              key.sign(release.saeId(), release.version(), payloadSha256, payloadSize)));
    }
    return builder.build();
  }

  static void requireChunkSize(int chunkSize) {
    if (chunkSize <= 0 || chunkSize > MAX_CHUNK_BYTES) {
      throw new IllegalArgumentException(
          "chunk size must be in [1, " + MAX_CHUNK_BYTES + "], was " + chunkSize);
    }
  }
}
