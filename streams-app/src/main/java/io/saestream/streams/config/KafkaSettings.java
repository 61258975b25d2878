package io.saestream.streams.config;

import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.streams.StreamsConfig;

/**
 * How to reach Kafka and identify the application.
 *
 * @param bootstrapServers {@code host:port} list of brokers
 * @param applicationId Kafka Streams {@code application.id}: consumer group, transactional id
 *     prefix and internal topic prefix; every instance of one deployment shares it
 * @param properties further Kafka client properties passed through unchanged (SASL, TLS, client
 *     tuning, prefixed {@code consumer.}/{@code producer.} settings); the ones sae-stream sets
 *     itself ({@link #MANAGED_PROPERTIES}) are refused
 */
public record KafkaSettings(
    String bootstrapServers, String applicationId, Map<String, String> properties) {

  /**
   * Applies the processing handler to global-store processing too. A transitional switch (its
   * constant is deprecated because 5.0 makes {@code true} the only behaviour); sae-stream has no
   * global stores yet and sets it to {@code true}, as Kafka recommends.
   */
  static final String GLOBAL_PROCESSING_HANDLER_ENABLED =
      "processing.exception.handler.global.enabled";

  /**
   * Properties derived from typed settings or fixed by sae-stream's guarantees; setting one in
   * {@code kafka.properties} is an error rather than a silent override.
   */
  public static final Set<String> MANAGED_PROPERTIES =
      Set.of(
          StreamsConfig.APPLICATION_ID_CONFIG,
          CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG,
          StreamsConfig.PROCESSING_GUARANTEE_CONFIG,
          StreamsConfig.NUM_STREAM_THREADS_CONFIG,
          StreamsConfig.STATE_DIR_CONFIG,
          StreamsConfig.COMMIT_INTERVAL_MS_CONFIG,
          StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG,
          StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG,
          StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
          StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG,
          GLOBAL_PROCESSING_HANDLER_ENABLED,
          StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG,
          StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG,
          StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG,
          StreamsConfig.APPLICATION_SERVER_CONFIG);

  private static final Pattern APPLICATION_ID = Pattern.compile("[a-zA-Z0-9._-]+");

  /** Validates the settings and copies the properties (sorted, for stable logging). */
  public KafkaSettings {
    Objects.requireNonNull(bootstrapServers, "kafka.bootstrap-servers");
    Objects.requireNonNull(applicationId, "kafka.application-id");
    Objects.requireNonNull(properties, "kafka.properties");
    if (bootstrapServers.isBlank()) {
      throw new IllegalArgumentException("kafka.bootstrap-servers must not be blank");
    }
    if (!APPLICATION_ID.matcher(applicationId).matches()) {
      throw new IllegalArgumentException(
          "kafka.application-id must match [a-zA-Z0-9._-]+, was '" + applicationId + "'");
    }
    for (Map.Entry<String, String> e : properties.entrySet()) {
      Objects.requireNonNull(e.getValue(), "kafka.properties." + e.getKey());
      if (MANAGED_PROPERTIES.contains(e.getKey())) {
        throw new IllegalArgumentException(
            "kafka.properties."
                + e.getKey()
                + " is managed by sae-stream and cannot be set there; use the typed setting"
                + " (kafka.*, streams.*, topics.*, http.*) where one exists");
      }
    }
    properties = Map.copyOf(new TreeMap<>(properties));
  }

  /** Defaults: {@code localhost:9092}, application id {@code sae-stream}, no extra properties. */
  public static KafkaSettings defaults() {
    return new KafkaSettings("localhost:9092", "sae-stream", Map.of());
  }

  /** Prints the property names only: values may hold credentials (sasl.jaas.config). */
  @Override
  public String toString() {
    return "KafkaSettings[bootstrapServers="
        + bootstrapServers
        + ", applicationId="
        + applicationId
        + ", properties="
        + new TreeMap<>(properties).keySet()
        + "]";
  }
}
