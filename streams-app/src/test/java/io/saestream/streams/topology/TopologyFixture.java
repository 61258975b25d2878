package io.saestream.streams.topology;

import io.saestream.schema.serde.AvroSerdeConfig;
import io.saestream.schema.serde.SpecificAvroDeserializer;
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
import io.saestream.streams.inference.InferenceEngine;
import io.saestream.streams.registry.SaeLoader;
import io.saestream.streams.registry.SaeRegistry;
import io.saestream.streams.serde.ActivationBatchDecoder;
import io.saestream.streams.testing.SaeLensFixtures;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;

/**
 * The sae-stream topology in a {@link TopologyTestDriver}, with three fixture SAEs: {@value #TOPK}
 * ({@code topk_rescale_folded}) and {@value #GATED} ({@code gated}) on the fixtures' hook, and
 * {@value #STANDARD} ({@code standard}, d_in 16) on {@value #STANDARD_HOOK}. The registry is loaded
 * once per test class; each {@link #newDriver} builds a fresh driver.
 */
final class TopologyFixture implements AutoCloseable {

  static final String TOPK = "topk-folded";
  static final String GATED = "gated";
  static final String STANDARD = "standard";
  static final String STANDARD_HOOK = "blocks.3.hook_resid_post";
  static final int MAX_TOKENS = 64;
  static final Instant NOW = Instant.parse("2025-01-02T03:04:05Z");

  final InMemorySchemaRegistryClient schemaRegistry = new InMemorySchemaRegistryClient();
  final StreamsAppConfig config;
  final InferenceEngine engine;
  final SaeRegistry registry;

  TopologyFixture(Path stateDir) {
    List<SaeDeployment> deployments =
        List.of(
            new SaeDeployment(
                TOPK, SaeLensFixtures.saeDir("topk_rescale_folded"), null, null, null, 3),
            new SaeDeployment(GATED, SaeLensFixtures.saeDir("gated"), null, null, null, 0),
            SaeDeployment.of(STANDARD, SaeLensFixtures.saeDir("standard"))
                .withHook("synthetic-fixture", STANDARD_HOOK));
    this.config =
        new StreamsAppConfig(
            new KafkaSettings("localhost:9092", "sae-stream-topology-test", Map.of()),
            SchemaRegistrySettings.of("http://localhost:8081"),
            TopicNames.defaults(),
            new StreamsSettings(
                1, MAX_TOKENS, stateDir, Duration.ofMillis(100), Duration.ofSeconds(5)),
            InferenceSettings.defaults(),
            deployments,
            CheckpointSettings.defaults(),
            MonitoringSettings.defaults(),
            HttpSettings.defaults());
    this.engine = InferenceEngine.create(config.inference());
    this.registry = SaeRegistry.load(deployments, new SaeLoader(engine));
  }

  Driver newDriver() {
    return new Driver();
  }

  @Override
  public void close() {
    registry.close();
    engine.close();
  }

  /** One driver with typed topics. */
  final class Driver implements AutoCloseable {

    final TopologyTestDriver driver;
    final TestInputTopic<byte[], byte[]> input;
    final TestOutputTopic<String, FeatureBatch> features;
    final TestOutputTopic<String, ReconstructionStats> reconstruction;
    final TestOutputTopic<byte[], byte[]> deadLetters;
    final SpecificAvroSerializer<ActivationBatch> batchSerializer =
        new SpecificAvroSerializer<>(schemaRegistry, AvroSerdeConfig.forValues());

    Driver() {
      AvroSerdeConfig serde = AvroSerdeConfig.forValues();
      TopicNames topics = config.topics();
      Properties props = config.kafkaStreamsProperties();
      driver =
          new TopologyTestDriver(
              SaeTopology.build(
                  topics,
                  new ActivationBatchDecoder(schemaRegistry),
                  new SpecificAvroSerializer<FeatureBatch>(schemaRegistry, serde),
                  new SpecificAvroSerializer<ReconstructionStats>(schemaRegistry, serde),
                  registry,
                  config.streams().maxTokensPerRecord(),
                  Clock.fixed(NOW, ZoneOffset.UTC)),
              props);
      input =
          driver.createInputTopic(
              topics.activations(), new ByteArraySerializer(), new ByteArraySerializer());
      features =
          driver.createOutputTopic(
              topics.features(),
              new StringDeserializer(),
              new SpecificAvroDeserializer<>(schemaRegistry, FeatureBatch.class));
      reconstruction =
          driver.createOutputTopic(
              topics.reconstruction(),
              new StringDeserializer(),
              new SpecificAvroDeserializer<>(schemaRegistry, ReconstructionStats.class));
      deadLetters =
          driver.createOutputTopic(
              topics.deadLetter(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** The wire bytes of {@code batch}. */
    byte[] encode(ActivationBatch batch) {
      byte[] bytes = batchSerializer.serialize(config.topics().activations(), batch);
      if (bytes == null) {
        throw new AssertionError("null serialization");
      }
      return bytes;
    }

    /** Sends {@code batch} keyed by its sequence id. */
    void send(ActivationBatch batch) {
      sendRaw(key(batch.getSequenceId()), encode(batch), new RecordHeaders());
    }

    /** Sends raw bytes. */
    void sendRaw(byte[] key, byte[] value, Headers headers) {
      input.pipeInput(new TestRecord<>(key, value, headers, NOW));
    }

    @Override
    public void close() {
      driver.close();
    }
  }

  static byte[] key(String sequenceId) {
    return sequenceId.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }
}
