package io.saestream.streams.config;

import io.saestream.schema.checkpoint.AssemblerLimits;
import io.saestream.schema.checkpoint.CheckpointKeys;
import io.saestream.schema.checkpoint.HmacKey;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Hot swap: whether and how the app follows the checkpoints topic.
 *
 * @param follow run the checkpoint follower, which swaps in newer versions of the deployed SAEs
 *     published on {@code topic}
 * @param topic the compacted checkpoints topic
 * @param hmacKey the shared key checkpoints are signed with; when set, unsigned or wrongly signed
 *     checkpoints are refused. Read from {@code checkpoints.hmac-key-file} or the environment
 *     variable {@code SAE_STREAM_CHECKPOINTS_HMAC_KEY}, never from the configuration file itself,
 *     and never logged
 * @param maxPayloadSize largest checkpoint payload accepted, in bytes; the follower holds up to
 *     twice that in memory while assembling
 * @param assemblyTimeout how long a checkpoint whose manifest arrived may wait for missing chunks
 *     once the follower has caught up with the topic
 */
public record CheckpointSettings(
    boolean follow,
    String topic,
    @Nullable HmacKey hmacKey,
    long maxPayloadSize,
    Duration assemblyTimeout) {

  // Kafka's own rule, repeated so that the message can name our key (as TopicNames does).
  private static final Pattern LEGAL_TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

  /** Validates the settings. */
  public CheckpointSettings {
    Objects.requireNonNull(topic, "checkpoints.topic");
    Objects.requireNonNull(assemblyTimeout, "checkpoints.assembly-timeout");
    if (!LEGAL_TOPIC.matcher(topic).matches() || topic.equals(".") || topic.equals("..")) {
      throw new IllegalArgumentException(
          "checkpoints.topic must be a legal Kafka topic name ([a-zA-Z0-9._-], 1 to 249 chars),"
              + " was '"
              + topic
              + "'");
    }
    if (maxPayloadSize <= 0) {
      throw new IllegalArgumentException(
          "checkpoints.max-payload-size must be > 0, was " + maxPayloadSize);
    }
    if (assemblyTimeout.isNegative() || assemblyTimeout.isZero()) {
      throw new IllegalArgumentException(
          "checkpoints.assembly-timeout must be > 0, was " + assemblyTimeout);
    }
  }

  /** Not following; the default topic, no key, 512 MiB payloads, 30 s assembly timeout. */
  public static CheckpointSettings defaults() {
    return new CheckpointSettings(
        false,
        CheckpointKeys.DEFAULT_TOPIC,
        null,
        AssemblerLimits.DEFAULT_MAX_PAYLOAD_BYTES,
        AssemblerLimits.DEFAULT_ASSEMBLY_TIMEOUT);
  }

  /** Following {@code checkpointsTopic}, otherwise the defaults. */
  public static CheckpointSettings following(String checkpointsTopic) {
    return defaults().withFollow(true).withTopic(checkpointsTopic);
  }

  /** A copy with {@link #follow()} set. */
  public CheckpointSettings withFollow(boolean on) {
    return new CheckpointSettings(on, topic, hmacKey, maxPayloadSize, assemblyTimeout);
  }

  /** A copy reading {@code name}. */
  public CheckpointSettings withTopic(String name) {
    return new CheckpointSettings(follow, name, hmacKey, maxPayloadSize, assemblyTimeout);
  }

  /** A copy requiring signatures under {@code key} (null: signatures not checked). */
  public CheckpointSettings withHmacKey(@Nullable HmacKey key) {
    return new CheckpointSettings(follow, topic, key, maxPayloadSize, assemblyTimeout);
  }

  /** A copy with another assembly timeout. */
  public CheckpointSettings withAssemblyTimeout(Duration timeout) {
    return new CheckpointSettings(follow, topic, hmacKey, maxPayloadSize, timeout);
  }

  /** The assembler bounds these settings imply. */
  public AssemblerLimits assemblerLimits() {
    return AssemblerLimits.of(maxPayloadSize, assemblyTimeout);
  }

  /** Says whether a key is set, never the key. */
  @Override
  public String toString() {
    return "CheckpointSettings[follow="
        + follow
        + ", topic="
        + topic
        + ", hmacKey="
        + (hmacKey == null ? "none" : "set")
        + ", maxPayloadSize="
        + maxPayloadSize
        + ", assemblyTimeout="
        + assemblyTimeout
        + "]";
  }
}
