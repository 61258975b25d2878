package io.saestream.schema.checkpoint;

import java.time.Clock;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * How a {@link CheckpointPublisher} writes checkpoints.
 *
 * @param topic the checkpoints topic
 * @param chunkSize bytes per chunk, at most {@link CheckpointRecords#MAX_CHUNK_BYTES}
 * @param signingKey signs every manifest when set; consumers that hold the key refuse unsigned ones
 * @param clock source of the manifests' {@code created_at}
 */
public record PublisherSettings(
    String topic, int chunkSize, @Nullable HmacKey signingKey, Clock clock) {

  /** Validates the settings. */
  public PublisherSettings {
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(clock, "clock");
    if (topic.isBlank()) {
      throw new IllegalArgumentException("topic must not be blank");
    }
    CheckpointRecords.requireChunkSize(chunkSize);
  }

  /** The default topic, 512 KiB chunks, unsigned, the system clock. */
  public static PublisherSettings defaults() {
    return new PublisherSettings(
        CheckpointKeys.DEFAULT_TOPIC, CheckpointRecords.MAX_CHUNK_BYTES, null, Clock.systemUTC());
  }

  /** A copy writing to {@code name}. */
  public PublisherSettings withTopic(String name) {
    return new PublisherSettings(name, chunkSize, signingKey, clock);
  }

  /** A copy with chunks of {@code bytes}. */
  public PublisherSettings withChunkSize(int bytes) {
    return new PublisherSettings(topic, bytes, signingKey, clock);
  }

  /** A copy signing with {@code key} (null: unsigned). */
  public PublisherSettings withSigningKey(@Nullable HmacKey key) {
    return new PublisherSettings(topic, chunkSize, key, clock);
  }

  /** A copy with {@code created_at} from {@code source}. */
  public PublisherSettings withClock(Clock source) {
    return new PublisherSettings(topic, chunkSize, signingKey, source);
  }
}
