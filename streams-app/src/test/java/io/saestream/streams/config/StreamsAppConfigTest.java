package io.saestream.streams.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.saestream.streams.errors.DeadLetterDeserializationExceptionHandler;
import io.saestream.streams.errors.SaeProcessingExceptionHandler;
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
        List.of(SaeDeployment.of("a", Path.of("/sae"))));
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
        .containsEntry("main.consumer.max.partition.fetch.bytes", Integer.toString(8 << 20));
    assertThat(overridden).containsEntry("producer.max.request.size", "2097152");
  }
}
