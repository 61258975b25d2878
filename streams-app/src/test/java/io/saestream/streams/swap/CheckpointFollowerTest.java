package io.saestream.streams.swap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.saestream.schema.checkpoint.CheckpointRecordSerializer;
import io.saestream.schema.checkpoint.CheckpointRecords;
import io.saestream.schema.checkpoint.CheckpointRelease;
import io.saestream.schema.testing.InMemorySchemaRegistryClient;
import io.saestream.schema.v1.SaeCheckpointChunk;
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
import io.saestream.streams.testing.SaeLensFixtures;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The follower on a mock consumer: topic discovery, filtering, bad records, consumer settings. */
class CheckpointFollowerTest {

  private static final String TOPIC = "sae.checkpoints.v1";
  private static final TopicPartition PARTITION = new TopicPartition(TOPIC, 0);
  private static final Duration DEADLINE = Duration.ofSeconds(20);

  @TempDir Path tmp;

  private final InMemorySchemaRegistryClient registryClient = new InMemorySchemaRegistryClient();
  private final CheckpointRecordSerializer serializer =
      new CheckpointRecordSerializer(registryClient, true);
  private final MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest");
  private InferenceEngine engine;
  private SaeRegistry registry;
  private CheckpointFollower follower;
  private long offset;

  @BeforeEach
  void startFollower() {
    engine = InferenceEngine.create(InferenceSettings.defaults());
    SaeLoader loader = new SaeLoader(engine);
    List<SaeDeployment> deployments =
        List.of(SaeDeployment.of("topk", SaeLensFixtures.saeDir(SwapFixtures.TOPK)));
    registry = SaeRegistry.load(deployments, loader);
    StreamsAppConfig config =
        new StreamsAppConfig(
            KafkaSettings.defaults(),
            SchemaRegistrySettings.of("http://localhost:8081"),
            TopicNames.defaults(),
            StreamsSettings.defaults(),
            InferenceSettings.defaults(),
            deployments,
            CheckpointSettings.following(TOPIC),
            MonitoringSettings.defaults(),
            HttpSettings.defaults());
    follower =
        new CheckpointFollower(
            consumer,
            "follower-test",
            config.checkpoints(),
            config,
            registryClient,
            registry,
            loader,
            Clock.systemUTC(),
            tmp.resolve("work"));
    follower.startThread();
  }

  @AfterEach
  void stop() {
    follower.close();
    registry.close();
    engine.close();
  }

  /** Creates the topic, waits for the follower to assign it, then hands it {@code records}. */
  private void publish(List<ConsumerRecord<String, byte[]>> records) {
    consumer.schedulePollTask(
        () -> {
          for (ConsumerRecord<String, byte[]> r : records) {
            consumer.addRecord(r);
          }
          consumer.updateEndOffsets(Map.of(PARTITION, offset));
        });
  }

  private void createTopic() {
    Node node = new Node(0, "localhost", 9092);
    consumer.updateBeginningOffsets(Map.of(PARTITION, 0L));
    consumer.updateEndOffsets(Map.of(PARTITION, 0L));
    consumer.updatePartitions(
        TOPIC, List.of(new PartitionInfo(TOPIC, 0, node, new Node[] {node}, new Node[] {node})));
    await("the follower assigning the new topic")
        .atMost(DEADLINE)
        .until(() -> consumer.assignment().contains(PARTITION));
  }

  private ConsumerRecord<String, byte[]> record(String key, SpecificRecord value) {
    return new ConsumerRecord<>(
        TOPIC, 0, offset++, key, Objects.requireNonNull(serializer.serialize(TOPIC, value)));
  }

  private List<ConsumerRecord<String, byte[]>> checkpoint(String saeId, long version, Path dir)
      throws IOException {
    CheckpointRelease release = SwapFixtures.release(saeId, version, dir);
    byte[] payload;
    try (InputStream in = release.payload().open()) {
      payload = in.readAllBytes();
    }
    List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
    for (SaeCheckpointChunk chunk : CheckpointRecords.split(saeId, version, payload, 16 * 1024)) {
      records.add(record(saeId + "/" + version + "/" + chunk.getIndex(), chunk));
    }
    records.add(
        record(
            saeId,
            CheckpointRecords.manifest(
                release,
                SwapFixtures.sha256(payload),
                payload.length,
                16 * 1024,
                null,
                Instant.now())));
    return records;
  }

  @Test
  void theFollowerWaitsForTheTopicThenSwapsItsSaesAndSkipsEverythingElse() throws IOException {
    assertThat(consumer.assignment()).isEmpty();
    createTopic();

    List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
    records.add(new ConsumerRecord<>(TOPIC, 0, offset++, "junk", new byte[] {1, 2, 3}));
    records.addAll(checkpoint("not-deployed-here", 1, SaeLensFixtures.saeDir("standard")));
    records.add(new ConsumerRecord<>(TOPIC, 0, offset++, "topk/0/0", null));
    records.addAll(checkpoint("topk", 1, SwapFixtures.scaledEncoder(tmp.resolve("v1"), 2f)));
    publish(records);

    CheckpointMetrics metrics = follower.metrics();
    await("v1 swapped in").atMost(DEADLINE).until(() -> metrics.activeVersion("topk") == 1);
    assertThat(metrics.swaps("topk")).isEqualTo(1);
    assertThat(metrics.rejected("malformed-record")).isEqualTo(1);
    assertThat(metrics.rejectedTotal()).isEqualTo(1);
    assertThat(registry.find("topk").orElseThrow().version()).isEqualTo(1);
  }

  @Test
  void aCheckpointNotAboveTheServedVersionIsStale() throws IOException {
    createTopic();
    publish(checkpoint("topk", 1, SwapFixtures.scaledEncoder(tmp.resolve("v1"), 2f)));
    CheckpointMetrics metrics = follower.metrics();
    await("v1 swapped in").atMost(DEADLINE).until(() -> metrics.activeVersion("topk") == 1);

    publish(checkpoint("topk", 1, SwapFixtures.scaledEncoder(tmp.resolve("again"), 4f)));

    await("the replay refused")
        .atMost(DEADLINE)
        .until(() -> metrics.rejected("stale-version") == 1);
    assertThat(metrics.activeVersion("topk")).isEqualTo(1);
    assertThat(metrics.swaps("topk")).isEqualTo(1);
  }

  @Test
  void theConsumerReadsCommittedFromTheStartWithoutAGroupAndKeepsSecuritySettings() {
    KafkaSettings kafka =
        new KafkaSettings(
            "broker:9092",
            "app",
            Map.of(
                "security.protocol", "SASL_SSL",
                "consumer.session.timeout.ms", "10000",
                "consumer.security.protocol", "SSL",
                "group.id", "not-for-the-follower",
                "num.standby.replicas", "1",
                "producer.acks", "1"));

    Map<String, Object> config = CheckpointFollower.consumerConfig(kafka, "app-follower-1");

    assertThat(config)
        .containsEntry(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "broker:9092")
        .containsEntry(ConsumerConfig.CLIENT_ID_CONFIG, "app-follower-1")
        .containsEntry(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed")
        .containsEntry(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest")
        .containsEntry(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false)
        .containsEntry(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false)
        .containsEntry("security.protocol", "SSL")
        .containsEntry("session.timeout.ms", "10000")
        .doesNotContainKeys(
            ConsumerConfig.GROUP_ID_CONFIG, "num.standby.replicas", "acks", "producer.acks");
  }

  @Test
  void closingStopsTheThreadAndTheConsumer() {
    follower.close();

    assertThat(consumer.closed()).isTrue();
  }
}
