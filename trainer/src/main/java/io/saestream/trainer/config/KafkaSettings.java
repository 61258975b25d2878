package io.saestream.trainer.config;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * How the trainer reaches Kafka. Immutable.
 *
 * @param bootstrapServers {@code kafka.bootstrap-servers}
 * @param groupId {@code kafka.group-id}: the trainer's own consumer group
 * @param properties {@code kafka.properties}: passed to every client (security settings...)
 */
public record KafkaSettings(
    String bootstrapServers, String groupId, Map<String, String> properties) {

  /** Default {@code kafka.group-id}. */
  public static final String DEFAULT_GROUP_ID = "sae-stream-trainer";

  /** Validates and copies. */
  public KafkaSettings {
    Objects.requireNonNull(bootstrapServers, "bootstrapServers");
    Objects.requireNonNull(groupId, "groupId");
    if (bootstrapServers.isBlank()) {
      throw new IllegalArgumentException("kafka.bootstrap-servers must not be blank");
    }
    if (groupId.isBlank()) {
      throw new IllegalArgumentException("kafka.group-id must not be blank");
    }
    properties = Map.copyOf(new TreeMap<>(Objects.requireNonNull(properties, "properties")));
  }

  /** Shows property names only: values may be credentials. */
  @Override
  public String toString() {
    return "KafkaSettings[bootstrapServers="
        + bootstrapServers
        + ", groupId="
        + groupId
        + ", properties="
        + properties.keySet()
        + "]";
  }
}
