package io.saestream.streams.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.streams.errors.DeadLetterDeserializationExceptionHandler;
import io.saestream.streams.errors.SaeProcessingExceptionHandler;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

class StreamsAppConfigTest {

  private static StreamsAppConfig config(Map<String, String> passthrough) {
    return new StreamsAppConfig(
        new KafkaSettings("broker:9092", "sae-app", passthrough),
        SchemaRegistrySettings.of("http://registry:8081"),
        new TopicNames("in", "features", "stats", "dead"),
        new StreamsSettings(
            3, 100, Path.of("/tmp/state"), Duration.ofMillis(50), Duration.ofSeconds(9)),
        InferenceSettings.defaults(),
        List.of(SaeDeployment.of("a", Path.of("/sae"))),
        CheckpointSettings.defaults(),
        MonitoringSettings.defaults(),
        HttpSettings.defaults());
  }

  @Test
  void kafkaStreamsPropertiesEnforceTheReliabilityRules() {
    Properties props = config(Map.of("security.protocol", "SSL")).kafkaStreamsProperties();

    assertThat(props)
        .containsEntry(StreamsConfig.APPLICATION_ID_CONFIG, "sae-app")
        .containsEntry(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "broker:9092")
        .containsEntry(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, "exactly_once_v2")
        .containsEntry(StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG, "true")
        .containsEntry(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, "dead")
        .containsEntry(
            StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG,
            SaeProcessingExceptionHandler.class.getName())
        .containsEntry(
            StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
            DeadLetterDeserializationExceptionHandler.class.getName())
        .containsEntry(StreamsConfig.NUM_STREAM_THREADS_CONFIG, "3")
        .containsEntry(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "50")
        .containsEntry(StreamsConfig.STATE_DIR_CONFIG, Path.of("/tmp/state").toString())
        .containsEntry("security.protocol", "SSL");
  }

  @Test
  void kafkaStreamsAcceptsTheProperties() {
    StreamsConfig streamsConfig = new StreamsConfig(config(Map.of()).kafkaStreamsProperties());

    assertThat(streamsConfig.getString(StreamsConfig.PROCESSING_GUARANTEE_CONFIG))
        .isEqualTo(StreamsConfig.EXACTLY_ONCE_V2);
    assertThat(streamsConfig.processingExceptionHandler())
        .isInstanceOf(SaeProcessingExceptionHandler.class);
  }

  @Test
  void largeRecordDefaultsApplyUnlessTheUserSetsThem() {
    Properties defaults = config(Map.of()).kafkaStreamsProperties();
    Properties overridden =
        config(Map.of("producer.max.request.size", "2097152")).kafkaStreamsProperties();

    assertThat(defaults)
        .containsEntry("producer.max.request.size", Integer.toString(16 * 1024 * 1024))
        .containsEntry("main.consumer.max.partition.fetch.bytes", Integer.toString(8 << 20))
        .as("internal topics Kafka Streams creates take what the producer may send")
        .containsEntry("topic.max.message.bytes", Integer.toString(16 * 1024 * 1024));
    assertThat(overridden).containsEntry("producer.max.request.size", "2097152");
  }

  @Test
  void eachCopyChangesItsOwnPartOnly() {
    StreamsAppConfig base = config(Map.of());
    KafkaSettings kafka = new KafkaSettings("other:9092", "other-app", Map.of());
    SchemaRegistrySettings registry = SchemaRegistrySettings.of("http://other:8081");
    TopicNames topics = new TopicNames("in2", "features2", "stats2", "dead2");
    StreamsSettings streams = StreamsSettings.defaults();
    InferenceSettings inference = new InferenceSettings(Device.AUTO, 1, 2);
    List<SaeDeployment> saes = List.of(SaeDeployment.of("b", Path.of("/other")));
    CheckpointSettings checkpoints = CheckpointSettings.following("sae.checkpoints.v2");
    MonitoringSettings monitoring = MonitoringSettings.defaults().withEnabled(true);
    HttpSettings http = HttpSettings.ephemeral();

    assertThat(base.withKafka(kafka)).isEqualTo(with(base, kafka, 0));
    assertThat(base.withSchemaRegistry(registry)).isEqualTo(with(base, registry, 1));
    assertThat(base.withTopics(topics)).isEqualTo(with(base, topics, 2));
    assertThat(base.withStreams(streams)).isEqualTo(with(base, streams, 3));
    assertThat(base.withInference(inference)).isEqualTo(with(base, inference, 4));
    assertThat(base.withDeployments(saes)).isEqualTo(with(base, saes, 5));
    assertThat(base.withCheckpoints(checkpoints)).isEqualTo(with(base, checkpoints, 6));
    assertThat(base.withMonitoring(monitoring)).isEqualTo(with(base, monitoring, 7));
    assertThat(base.withHttp(http)).isEqualTo(with(base, http, 8));
  }

  @Test
  void copiesAreValidatedLikeTheOriginal() {
    StreamsAppConfig base = config(Map.of());

    assertThatThrownBy(() -> base.withCheckpoints(CheckpointSettings.following("features")))
        .hasMessage("checkpoints.topic must differ from topics.*, 'features' is used twice");
    assertThatThrownBy(() -> base.withDeployments(List.of()))
        .hasMessage("deployments must list at least one SAE");
  }

  /** {@code base} with component {@code index} replaced, built by the canonical constructor. */
  private static StreamsAppConfig with(StreamsAppConfig base, Object part, int index) {
    Object[] parts = new Object[9];
    RecordComponent[] components = StreamsAppConfig.class.getRecordComponents();
    try {
      for (int i = 0; i < parts.length; i++) {
        parts[i] = i == index ? part : components[i].getAccessor().invoke(base);
      }
      Class<?>[] types = new Class<?>[parts.length];
      for (int i = 0; i < types.length; i++) {
        types[i] = components[i].getType();
      }
      return StreamsAppConfig.class.getDeclaredConstructor(types).newInstance(parts);
    } catch (ReflectiveOperationException e) {
      throw new LinkageError(e.getMessage(), e);
    }
  }
}
