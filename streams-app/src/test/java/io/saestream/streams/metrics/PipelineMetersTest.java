package io.saestream.streams.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.saestream.schema.serde.AvroSerdeConfig;
import io.saestream.schema.serde.SpecificAvroSerializer;
import io.saestream.schema.testing.InMemorySchemaRegistryClient;
import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.FeatureBatch;
import io.saestream.schema.v1.ReconstructionStats;
import io.saestream.streams.config.CheckpointSettings;
import io.saestream.streams.config.HttpSettings;
import io.saestream.streams.config.InferenceSettings;
import io.saestream.streams.config.KafkaSettings;
import io.saestream.streams.config.MonitoringSettings;
import io.saestream.streams.config.SaeDeployment;
import io.saestream.streams.config.SchemaRegistrySettings;
import io.saestream.streams.config.StreamsAppConfig;
import io.saestream.streams.config.StreamsSettings;
import io.saestream.streams.config.TopicNames;
import io.saestream.streams.errors.DeadLetterReason;
import io.saestream.streams.inference.InferenceEngine;
import io.saestream.streams.registry.SaeLoader;
import io.saestream.streams.registry.SaeRegistry;
import io.saestream.streams.serde.ActivationBatchDecoder;
import io.saestream.streams.testing.ActivationBatches;
import io.saestream.streams.testing.SaeLensFixtures;
import io.saestream.streams.topology.SaeTopology;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.common.metrics.stats.Value;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pipeline meters over the real topology's Kafka Streams metrics in a TopologyTestDriver: dead
 * letters by reason and inference per SAE as they appear in the Prometheus scrape.
 */
class PipelineMetersTest {

  private static final int D_IN = 32;
  private static final int TOKENS = 4;
  private static final Instant NOW = Instant.parse("2025-01-02T03:04:05Z");

  @TempDir static Path stateDir;

  private static InferenceEngine engine;
  private static SaeRegistry saes;
  private static StreamsAppConfig config;

  private final InMemorySchemaRegistryClient schemaRegistry = new InMemorySchemaRegistryClient();
  private TopologyTestDriver driver;
  private TestInputTopic<byte[], byte[]> input;
  private PrometheusMeterRegistry registry;

  @BeforeAll
  static void deploy() {
    List<SaeDeployment> deployments =
        List.of(
            SaeDeployment.of("topk", SaeLensFixtures.saeDir("topk_rescale_folded")),
            SaeDeployment.of("gated", SaeLensFixtures.saeDir("gated")));
    config =
        new StreamsAppConfig(
            new KafkaSettings("localhost:9092", "pipeline-meters-test", Map.of()),
            SchemaRegistrySettings.of("http://localhost:8081"),
            TopicNames.defaults(),
            new StreamsSettings(1, 64, stateDir, Duration.ofMillis(100), Duration.ofSeconds(5)),
            InferenceSettings.defaults(),
            deployments,
            CheckpointSettings.defaults(),
            MonitoringSettings.defaults(),
            HttpSettings.defaults());
    engine = InferenceEngine.create(config.inference());
    saes = SaeRegistry.load(deployments, new SaeLoader(engine));
  }

  @AfterAll
  static void undeploy() {
    saes.close();
    engine.close();
  }

  @BeforeEach
  void startDriver() {
    AvroSerdeConfig serde = AvroSerdeConfig.forValues();
    driver =
        new TopologyTestDriver(
            SaeTopology.build(
                config.topics(),
                new ActivationBatchDecoder(schemaRegistry),
                new SpecificAvroSerializer<FeatureBatch>(schemaRegistry, serde),
                new SpecificAvroSerializer<ReconstructionStats>(schemaRegistry, serde),
                saes,
                config.streams().maxTokensPerRecord(),
                Clock.fixed(NOW, ZoneOffset.UTC)),
            config.kafkaStreamsProperties());
    input =
        driver.createInputTopic(
            config.topics().activations(), new ByteArraySerializer(), new ByteArraySerializer());
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new PipelineMeters<>(driver, TopologyTestDriver::metrics, List.of("topk", "gated"))
        .bindTo(registry);
  }

  @AfterEach
  void stopDriver() {
    registry.close();
    driver.close();
  }

  @Test
  void everyDeadLetterReasonIsExportedAtZeroBeforeAnyTraffic() {
    PrometheusSamples scrape = PrometheusSamples.parse(registry.scrape());

    for (DeadLetterReason reason : DeadLetterReason.values()) {
      assertThat(scrape.value("sae_dead_letters_total", Map.of("reason", reason.tagValue())))
          .as("dead letters %s", reason)
          .isZero();
    }
    assertThat(scrape.value("sae_inference_calls_total", Map.of("sae_id", "topk"))).isZero();
    assertThat(scrape.value("sae_inference_latency_avg_seconds", Map.of("sae_id", "topk")))
        .as("no inference yet")
        .isNaN();
  }

  @Test
  void deadLettersAreCountedByReason() {
    send(good(0));
    float[] values = ActivationBatches.values(TOKENS, D_IN, 1);
    values[5] = Float.NaN;
    send(ActivationBatches.f32("nan", TOKENS, D_IN, values));
    send(ActivationBatches.f32("nan-2", TOKENS, D_IN, values));
    input.pipeInput("bad".getBytes(StandardCharsets.UTF_8), new byte[] {42, 42}, NOW);

    PrometheusSamples scrape = PrometheusSamples.parse(registry.scrape());

    assertThat(
            scrape.value(
                "sae_dead_letters_total",
                Map.of("reason", DeadLetterReason.NON_FINITE_VALUES.tagValue())))
        .isEqualTo(2.0);
    assertThat(
            scrape.value(
                "sae_dead_letters_total",
                Map.of("reason", DeadLetterReason.UNDECODABLE.tagValue())))
        .isEqualTo(1.0);
    assertThat(
            scrape.value(
                "sae_dead_letters_total",
                Map.of("reason", DeadLetterReason.NO_SAE_FOR_HOOK.tagValue())))
        .isZero();
  }

  @Test
  void inferenceCallsAndLatencyAreReportedPerSae() {
    for (int i = 0; i < 3; i++) {
      send(good(i));
    }

    PrometheusSamples scrape = PrometheusSamples.parse(registry.scrape());

    for (String sae : List.of("topk", "gated")) {
      Map<String, String> tag = Map.of("sae_id", sae);
      assertThat(scrape.value("sae_inference_calls_total", tag)).as(sae).isEqualTo(3.0);
      double max = scrape.value("sae_inference_latency_max_seconds", tag);
      double avg = scrape.value("sae_inference_latency_avg_seconds", tag);
      // A fixture SAE analyzes 4 tokens in well under a second even on a loaded machine.
      assertThat(max).as("max latency of %s", sae).isPositive().isLessThan(10.0);
      assertThat(avg).as("mean latency of %s", sae).isPositive().isLessThanOrEqualTo(max);
    }
  }

  @Test
  void consumerLagIsTheLargestOfTheInputConsumersOnly() {
    try (Metrics metrics = new Metrics()) {
      PrometheusMeterRegistry own = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      new PipelineMeters<>(metrics, Metrics::metrics, List.of()).bindTo(own);
      assertThat(PrometheusSamples.parse(own.scrape()).value("sae_consumer_records_lag_max"))
          .as("before any fetch")
          .isNaN();

      lag(metrics, Map.of("client-id", "app-StreamThread-1-consumer"), 5);
      lag(metrics, Map.of("client-id", "app-StreamThread-2-consumer"), 9);
      lag(metrics, Map.of("client-id", "app-StreamThread-1-restore-consumer"), 1000);
      lag(
          metrics,
          Map.of("client-id", "app-StreamThread-1-consumer", "topic", "t", "partition", "0"),
          70);

      assertThat(PrometheusSamples.parse(own.scrape()).value("sae_consumer_records_lag_max"))
          .isEqualTo(9.0);
      own.close();
    }
  }

  private static void lag(Metrics metrics, Map<String, String> tags, double value) {
    Sensor sensor = metrics.sensor("lag" + tags);
    sensor.add(
        new MetricName("records-lag-max", "consumer-fetch-manager-metrics", "", tags), new Value());
    sensor.record(value);
  }

  private static ActivationBatch good(int i) {
    return ActivationBatches.f32(
        "seq-" + i, TOKENS, D_IN, ActivationBatches.values(TOKENS, D_IN, i));
  }

  private void send(ActivationBatch batch) {
    byte[] value =
        new SpecificAvroSerializer<ActivationBatch>(schemaRegistry, AvroSerdeConfig.forValues())
            .serialize(config.topics().activations(), batch);
    input.pipeInput(batch.getSequenceId().getBytes(StandardCharsets.UTF_8), value, NOW);
  }
}
