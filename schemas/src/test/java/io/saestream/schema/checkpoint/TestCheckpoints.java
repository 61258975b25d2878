package io.saestream.schema.checkpoint;

import io.saestream.schema.v1.SaeCheckpoint;
import io.saestream.schema.v1.SaeCheckpointChunk;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.jspecify.annotations.Nullable;

/** Checkpoint records for tests: a deterministic payload split into chunks, and its manifest. */
final class TestCheckpoints {

  static final String SAE = "gpt2-res-8";
  static final String CFG = "{\"architecture\": \"topk\", \"d_in\": 4, \"d_sae\": 16, \"k\": 2}";
  static final Instant CREATED = Instant.ofEpochMilli(1_767_225_600_000L);
  static final HmacKey KEY = HmacKey.fromText("0123456789abcdef0123456789abcdef-test");

  private TestCheckpoints() {}

  /** {@code size} pseudo-random bytes. */
  static byte[] payload(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  static CheckpointRelease release(String saeId, long version, byte[] payload) {
    return new CheckpointRelease(
        saeId,
        version,
        "topk",
        4,
        16,
        2,
        CFG,
        PayloadSource.ofBytes(payload),
        new TrainingStats(100, 4096, 0.1, 2.0, 0.05));
  }

  /** A complete checkpoint: manifest and chunks as the publisher builds them. */
  static final class Built {
    private final SaeCheckpoint manifest;
    private final List<SaeCheckpointChunk> chunks;
    private final byte[] payload;

    Built(SaeCheckpoint manifest, List<SaeCheckpointChunk> chunks, byte[] payload) {
      this.manifest = manifest;
      this.chunks = List.copyOf(chunks);
      this.payload = payload.clone();
    }

    SaeCheckpoint manifest() {
      return manifest;
    }

    List<SaeCheckpointChunk> chunks() {
      return chunks;
    }

    byte[] payload() {
      return payload.clone();
    }
  }

  static Built build(
      String saeId, long version, byte[] payload, int chunkSize, @Nullable HmacKey key) {
    SaeCheckpoint manifest =
        CheckpointRecords.manifest(
            release(saeId, version, payload),
            Sha256.hex(payload),
            payload.length,
            chunkSize,
            key,
            CREATED);
    return new Built(
        manifest, CheckpointRecords.split(saeId, version, payload, chunkSize), payload);
  }

  static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
