package io.saestream.streams.config;

import io.saestream.streams.errors.DeadLetterDeserializationExceptionHandler;
import io.saestream.streams.errors.SaeProcessingExceptionHandler;
import io.saestream.streams.errors.SaeProductionExceptionHandler;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.jspecify.annotations.Nullable;

/**
 * The whole configuration of the streams app, validated: every invalid value fails construction
 * with a message naming its key, e.g. {@code streams.max-tokens-per-record must be > 0, was -3}.
 * Read it with {@link #load(Path, Map)} (YAML file plus environment overrides; see {@link
 * ConfigLoader} for the keys). Immutable and thread-safe.
 *
 * @param kafka brokers, application id and passthrough client properties
 * @param schemaRegistry the schema registry
 * @param topics topic names
 * @param streams processing settings
 * @param inference ONNX Runtime settings
 * @param deployments the SAEs to serve, at least one
 * @param checkpoints hot swap from the checkpoints topic
 * @param monitoring alert rules and latent statistics
 * @param http the read-only HTTP API, dashboard and metrics endpoint
 */
public record StreamsAppConfig(
    KafkaSettings kafka,
    SchemaRegistrySettings schemaRegistry,
    TopicNames topics,
    StreamsSettings streams,
    InferenceSettings inference,
    List<SaeDeployment> deployments,
    CheckpointSettings checkpoints,
    MonitoringSettings monitoring,
    HttpSettings http) {

  /** Largest record the app's producer may send (and the aggregates topic accepts): 16 MiB. */
  public static final int MAX_RECORD_BYTES = 16 * 1024 * 1024;

  /** Validates the parts and that SAE ids are unique. */
  public StreamsAppConfig {
    Objects.requireNonNull(kafka, "kafka");
    Objects.requireNonNull(schemaRegistry, "schema-registry");
    Objects.requireNonNull(topics, "topics");
    Objects.requireNonNull(streams, "streams");
    Objects.requireNonNull(inference, "inference");
    Objects.requireNonNull(deployments, "deployments");
    Objects.requireNonNull(checkpoints, "checkpoints");
    Objects.requireNonNull(monitoring, "monitoring");
    Objects.requireNonNull(http, "http");
    deployments = List.copyOf(deployments);
    if (deployments.isEmpty()) {
      throw new IllegalArgumentException("deployments must list at least one SAE");
    }
    if (List.of(
            topics.activations(), topics.features(), topics.reconstruction(), topics.deadLetter())
        .contains(checkpoints.topic())) {
      throw new IllegalArgumentException(
          "checkpoints.topic must differ from topics.*, '"
              + checkpoints.topic()
              + "' is used twice");
    }
    if (monitoring.enabled()) {
      List<String> used =
          List.of(
              topics.activations(),
              topics.features(),
              topics.reconstruction(),
              topics.deadLetter(),
              checkpoints.topic());
      for (String t :
          List.of(
              monitoring.alertsTopic(), monitoring.rulesTopic(), monitoring.aggregatesTopic())) {
        if (used.contains(t)) {
          throw new IllegalArgumentException(
              "monitoring.*-topic must differ from topics.* and checkpoints.topic, '"
                  + t
                  + "' is used twice");
        }
      }
    }
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < deployments.size(); i++) {
      String id = deployments.get(i).saeId();
      if (!ids.add(id)) {
        throw new IllegalArgumentException(
            "deployments[" + i + "].sae-id '" + id + "' is used by an earlier deployment");
      }
    }
  }

  /** A copy with other Kafka settings. */
  public StreamsAppConfig withKafka(KafkaSettings settings) {
    return copy(c -> c.kafka = settings);
  }

  /** A copy with another schema registry. */
  public StreamsAppConfig withSchemaRegistry(SchemaRegistrySettings settings) {
    return copy(c -> c.schemaRegistry = settings);
  }

  /** A copy with other topic names. */
  public StreamsAppConfig withTopics(TopicNames names) {
    return copy(c -> c.topics = names);
  }

  /** A copy with other processing settings. */
  public StreamsAppConfig withStreams(StreamsSettings settings) {
    return copy(c -> c.streams = settings);
  }

  /** A copy with other ONNX Runtime settings. */
  public StreamsAppConfig withInference(InferenceSettings settings) {
    return copy(c -> c.inference = settings);
  }

  /** A copy serving other SAEs. */
  public StreamsAppConfig withDeployments(List<SaeDeployment> saes) {
    return copy(c -> c.deployments = saes);
  }

  /** A copy with other hot-swap settings. */
  public StreamsAppConfig withCheckpoints(CheckpointSettings settings) {
    return copy(c -> c.checkpoints = settings);
  }

  /** A copy with other monitoring settings. */
  public StreamsAppConfig withMonitoring(MonitoringSettings settings) {
    return copy(c -> c.monitoring = settings);
  }

  /** A copy with other HTTP settings. */
  public StreamsAppConfig withHttp(HttpSettings settings) {
    return copy(c -> c.http = settings);
  }

  /** A validated copy of this configuration with {@code change} applied to its parts. */
  private StreamsAppConfig copy(Consumer<Parts> change) {
    Parts parts = new Parts(this);
    change.accept(parts);
    return parts.config();
  }

  /** The parts of a configuration while a copy is being made; confined to {@link #copy}. */
  private static final class Parts {
    KafkaSettings kafka;
    SchemaRegistrySettings schemaRegistry;
    TopicNames topics;
    StreamsSettings streams;
    InferenceSettings inference;
    List<SaeDeployment> deployments;
    CheckpointSettings checkpoints;
    MonitoringSettings monitoring;
    HttpSettings http;

    Parts(StreamsAppConfig c) {
      kafka = c.kafka;
      schemaRegistry = c.schemaRegistry;
      topics = c.topics;
      streams = c.streams;
      inference = c.inference;
      deployments = c.deployments;
      checkpoints = c.checkpoints;
      monitoring = c.monitoring;
      http = c.http;
    }

    StreamsAppConfig config() {
      return new StreamsAppConfig(
          kafka,
          schemaRegistry,
          topics,
          streams,
          inference,
          deployments,
          checkpoints,
          monitoring,
          http);
    }
  }

  /**
   * Reads {@code file} (YAML) and applies the {@code SAE_STREAM_*} variables of {@code
   * environment}.
   *
   * @throws IllegalArgumentException naming the offending key or variable
   * @throws java.io.UncheckedIOException when the file cannot be read
   */
  public static StreamsAppConfig load(Path file, Map<String, String> environment) {
    return ConfigLoader.load(file, environment);
  }

  /**
   * The Kafka Streams properties of this app: the one place they are derived. Passthrough
   * properties first, then the managed ones: exactly-once v2, explicit naming enforcement, the
   * dead-letter topic for the exception handlers (KIP-1034), our deserialization and processing
   * handlers, fail-on-error production, and the typed settings.
   */
  public Properties kafkaStreamsProperties() {
    return kafkaStreamsProperties(null);
  }

  /**
   * {@link #kafkaStreamsProperties()} plus {@code application.server} = {@code applicationServer}
   * ({@code host:port} of this instance's HTTP server, which interactive queries of other instances
   * are forwarded to), when not null.
   */
  public Properties kafkaStreamsProperties(@Nullable String applicationServer) {
    Properties props = new Properties();
    // Defaults the user's kafka.properties may override: records of the aggregates topic can pass
    // 1 MiB, and 8 MiB fetches measured +6 % end-to-end throughput with 256-token records.
    props.put(StreamsConfig.producerPrefix("max.request.size"), Integer.toString(MAX_RECORD_BYTES));
    // Internal topics Kafka Streams creates (changelogs) take what the producer may send; the
    // statistics-deltas store, which holds batch summaries as they are, sets it on its own too.
    props.put(StreamsConfig.topicPrefix("max.message.bytes"), Integer.toString(MAX_RECORD_BYTES));
    props.put(
        StreamsConfig.mainConsumerPrefix("max.partition.fetch.bytes"),
        Integer.toString(8 * 1024 * 1024));
    props.putAll(kafka.properties());
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, kafka.applicationId());
    props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG, "true");
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Integer.toString(streams.threads()));
    props.put(StreamsConfig.STATE_DIR_CONFIG, streams.stateDir().toString());
    props.put(
        StreamsConfig.COMMIT_INTERVAL_MS_CONFIG,
        Long.toString(streams.commitInterval().toMillis()));
    props.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, topics.deadLetter());
    props.put(
        StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
        DeadLetterDeserializationExceptionHandler.class.getName());
    props.put(
        StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG,
        SaeProcessingExceptionHandler.class.getName());
    props.put(KafkaSettings.GLOBAL_PROCESSING_HANDLER_ENABLED, "true");
    props.put(
        StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG,
        SaeProductionExceptionHandler.class.getName());
    // Every node names its serdes; these only make a forgotten one fail loudly on bytes.
    props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class.getName());
    props.put(
        StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class.getName());
    if (applicationServer != null) {
      props.put(StreamsConfig.APPLICATION_SERVER_CONFIG, applicationServer);
    }
    return props;
  }
}
