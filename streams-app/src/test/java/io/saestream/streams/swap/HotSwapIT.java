package io.saestream.streams.swap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;
import static org.awaitility.Awaitility.await;

import io.saestream.schema.checkpoint.CheckpointPublisher;
import io.saestream.schema.checkpoint.CheckpointRecordSerializer;
import io.saestream.schema.checkpoint.CheckpointRecords;
import io.saestream.schema.checkpoint.CheckpointRelease;
import io.saestream.schema.checkpoint.CheckpointTopic;
import io.saestream.schema.checkpoint.HmacKey;
import io.saestream.schema.checkpoint.PublisherSettings;
import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.FeatureBatch;
import io.saestream.schema.v1.ReconstructionStats;
import io.saestream.schema.v1.SaeCheckpoint;
import io.saestream.schema.v1.SaeCheckpointChunk;
import io.saestream.streams.StreamsApp;
import io.saestream.streams.config.CheckpointSettings;
import io.saestream.streams.config.InferenceSettings;
import io.saestream.streams.config.SaeDeployment;
import io.saestream.streams.config.StreamsAppConfig;
import io.saestream.streams.config.TopicNames;
import io.saestream.streams.inference.InferenceEngine;
import io.saestream.streams.inference.SaeAnalysis;
import io.saestream.streams.registry.DeployedSae;
import io.saestream.streams.registry.SaeLoader;
import io.saestream.streams.testing.ActivationBatches;
import io.saestream.streams.testing.ClusterPerClass;
import io.saestream.streams.testing.SaeLensFixtures;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hot swap end to end on a real in-JVM KRaft broker and schema registry: while activation batches
 * flow, checkpoints published with {@link CheckpointPublisher} are swapped into the running app
 * without a restart, every batch yields exactly one FeatureBatch and one ReconstructionStats (read
 * committed) across the swaps, outputs carry the version and the latents of the model that served
 * them, and bad checkpoints are refused (metric) while the last good model keeps serving.
 */
class HotSwapIT {

  private static final String SAE = "topk";
  private static final int D_IN = 32;
  private static final int TOKENS = 4;
  private static final int D_SAE = 128;
  private static final int CHUNK = 8 * 1024;
  private static final HmacKey KEY = HmacKey.fromText("hot-swap-integration-test-key-0123456789");
  private static final HmacKey OTHER_KEY =
      HmacKey.fromText("some-other-key-that-the-app-does-not-hold-0");
  private static final Duration SWAP_DEADLINE = Duration.ofSeconds(30);

  @RegisterExtension static final ClusterPerClass CLUSTER = new ClusterPerClass();

  @TempDir Path tmp;

  @Test
  void checkpointsSwapInWhileBatchesFlowAndBadOnesLeaveTheServingModel() throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    TopicNames topics = CLUSTER.get().createTopics("hotswap", 2);
    String checkpointTopic = "hotswap.checkpoints." + suffix;
    CLUSTER.get().createTopics(List.of(CheckpointTopic.newTopic(checkpointTopic, 1, (short) 1)));
    StreamsAppConfig config =
        CLUSTER
            .get()
            .appConfig(
                "hotswap-" + suffix,
                topics,
                tmp.resolve("state"),
                1,
                List.of(SaeDeployment.of(SAE, SaeLensFixtures.saeDir(SwapFixtures.TOPK))))
            .withCheckpoints(
                CheckpointSettings.following(checkpointTopic)
                    .withHmacKey(KEY)
                    .withAssemblyTimeout(Duration.ofSeconds(2)));
    StreamsApp app = CLUSTER.get().startApp(config);
    CheckpointMetrics metrics = app.checkpointFollower().orElseThrow().metrics();
    PublisherSettings signed =
        PublisherSettings.defaults()
            .withTopic(checkpointTopic)
            .withChunkSize(CHUNK)
            .withSigningKey(KEY);

    try (BatchFlow flow = new BatchFlow(topics.activations());
        CheckpointPublisher publisher = publisher("trainer-" + suffix, signed)) {
      flow.start();
      awaitOutputs(topics, 0, 10);

      // Version 1: the encoder scaled by 2, so every latent doubles.
      publisher.publish(
          SwapFixtures.release(SAE, 1, SwapFixtures.scaledEncoder(tmp.resolve("v1"), 2f)));
      awaitServing(app, metrics, 1, 1);
      awaitOutputs(topics, 1, 10);

      // Version 2: the latents in reverse order.
      publisher.publish(
          SwapFixtures.release(SAE, 2, SwapFixtures.reversedLatents(tmp.resolve("v2"))));
      awaitServing(app, metrics, 2, 2);
      awaitOutputs(topics, 2, 10);

      CheckpointRelease good =
          SwapFixtures.release(SAE, 3, SaeLensFixtures.saeDir(SwapFixtures.TOPK));
      byte[] payload = payloadOf(good);
      List<SaeCheckpointChunk> chunks;

      // v3: the manifest's digest is not the payload's (signed, so only the digest is wrong).
      chunks = CheckpointRecords.split(SAE, 3, payload, CHUNK);
      publishRaw(
          checkpointTopic,
          chunks,
          manifest(good, SwapFixtures.sha256(new byte[] {1, 2, 3}), payload.length, KEY));
      awaitRefused(app, metrics, "bad-sha256");

      // v4: one chunk never published.
      CheckpointRelease v4 = withVersion(good, 4);
      chunks = new ArrayList<>(CheckpointRecords.split(SAE, 4, payload, CHUNK));
      chunks.remove(1);
      publishRaw(
          checkpointTopic, chunks, manifest(v4, SwapFixtures.sha256(payload), payload.length, KEY));
      awaitRefused(app, metrics, "missing-chunk");

      // v5: a chunk cut short, with a digest that matches what is left of it.
      CheckpointRelease v5 = withVersion(good, 5);
      chunks = new ArrayList<>(CheckpointRecords.split(SAE, 5, payload, CHUNK));
      chunks.set(1, CheckpointRecords.chunk(SAE, 5, 1, chunks.size(), new byte[CHUNK - 100]));
      publishRaw(
          checkpointTopic, chunks, manifest(v5, SwapFixtures.sha256(payload), payload.length, KEY));
      awaitRefused(app, metrics, "truncated-chunk");

      // v6: another d_in (the standard fixture reads 16 dimensions).
      publisher.publish(SwapFixtures.release(SAE, 6, SaeLensFixtures.saeDir("standard")));
      awaitRefused(app, metrics, "incompatible");

      // v7: a NaN among the weights.
      publisher.publish(SwapFixtures.release(SAE, 7, SwapFixtures.withNaN(tmp.resolve("nan"))));
      awaitRefused(app, metrics, "invalid-checkpoint");

      // v8: signed with a key the app does not hold.
      try (CheckpointPublisher forger =
          publisher("forger-" + suffix, signed.withSigningKey(OTHER_KEY))) {
        forger.publish(withVersion(good, 8));
      }
      awaitRefused(app, metrics, "bad-signature");

      assertThat(metrics.rejectedTotal()).isEqualTo(6);
      int afterRejections = flow.produced();
      await("batches after the refused checkpoints")
          .atMost(SWAP_DEADLINE)
          .until(() -> flow.produced() >= afterRejections + 10);
      flow.stop();

      List<String> sequences = flow.sequences();
      Map<String, FeatureBatch> features =
          awaitExactlyOnce(
              topics.features(), FeatureBatch.class, sequences, FeatureBatch::getSequenceId);
      Map<String, ReconstructionStats> stats =
          awaitExactlyOnce(
              topics.reconstruction(),
              ReconstructionStats.class,
              sequences,
              ReconstructionStats::getSequenceId);

      assertThat(features.values())
          .extracting(FeatureBatch::getSaeVersion)
          .containsOnly(0L, 1L, 2L)
          .contains(0L, 1L, 2L);
      for (String sequence : sequences) {
        assertThat(Objects.requireNonNull(stats.get(sequence)).getSaeVersion())
            .as("stats of %s", sequence)
            .isEqualTo(Objects.requireNonNull(features.get(sequence)).getSaeVersion());
      }
      assertVersionsNeverGoBackWithinAPartition(features.values());
      for (String sequence : flow.sequencesFrom(afterRejections)) {
        assertThat(Objects.requireNonNull(features.get(sequence)).getSaeVersion())
            .as(sequence)
            .isEqualTo(2L);
      }
      assertLatentsAreThoseOfTheServingModel(features.values());
    }
    assertThat(app.registry().find(SAE).orElseThrow().version()).isEqualTo(2);

    // A restart re-learns from the topic: the newest good version serves, the bad ones after it
    // are refused again.
    app.close();
    StreamsApp restarted = CLUSTER.get().startApp(config);
    CheckpointMetrics again = restarted.checkpointFollower().orElseThrow().metrics();
    await("the restarted app reading every checkpoint")
        .atMost(SWAP_DEADLINE)
        .until(() -> again.rejected("bad-signature") == 1);
    assertThat(again.activeVersion(SAE)).isEqualTo(2);
    assertThat(again.rejected("invalid-checkpoint")).isEqualTo(1);
    assertThat(again.rejected("incompatible")).isEqualTo(1);
  }

  private static CheckpointPublisher publisher(String transactionalId, PublisherSettings settings) {
    return CheckpointPublisher.create(
        Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, CLUSTER.get().bootstrapServers()),
        transactionalId,
        CLUSTER.get().registryClient(),
        settings);
  }

  /** Writes checkpoint records as they are, in one transaction, as a faulty trainer might. */
  private static void publishRaw(
      String topic, List<SaeCheckpointChunk> chunks, SaeCheckpoint manifest) {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, CLUSTER.get().bootstrapServers());
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "raw-" + UUID.randomUUID());
    try (KafkaProducer<String, SpecificRecord> producer =
        new KafkaProducer<>(
            props,
            new StringSerializer(),
            new CheckpointRecordSerializer(CLUSTER.get().registryClient(), true))) {
      producer.initTransactions();
      producer.beginTransaction();
      List<Future<RecordMetadata>> sent = new ArrayList<>();
      for (SaeCheckpointChunk chunk : chunks) {
        sent.add(
            producer.send(
                new ProducerRecord<>(
                    topic, 0, SAE + "/" + chunk.getVersion() + "/" + chunk.getIndex(), chunk)));
      }
      sent.add(producer.send(new ProducerRecord<>(topic, 0, SAE, manifest)));
      producer.commitTransaction();
      for (Future<RecordMetadata> f : sent) {
        assertThat(f).isDone();
      }
    }
  }

  private static SaeCheckpoint manifest(
      CheckpointRelease release, String sha256, long size, HmacKey key) {
    return CheckpointRecords.manifest(release, sha256, size, CHUNK, key, Instant.now());
  }

  private static CheckpointRelease withVersion(CheckpointRelease r, long version) {
    return new CheckpointRelease(
        r.saeId(),
        version,
        r.architecture(),
        r.dIn(),
        r.dSae(),
        r.k(),
        r.cfgJson(),
        r.payload(),
        r.training());
  }

  private static byte[] payloadOf(CheckpointRelease release) throws IOException {
    try (InputStream in = release.payload().open()) {
      return in.readAllBytes();
    }
  }

  private static void awaitServing(
      StreamsApp app, CheckpointMetrics metrics, long version, long swaps) {
    await("SAE serving v" + version)
        .atMost(SWAP_DEADLINE)
        .until(() -> metrics.activeVersion(SAE) == version && metrics.swaps(SAE) == swaps);
    assertThat(app.registry().find(SAE).orElseThrow().version()).isEqualTo(version);
    assertThat(metrics.rejectedTotal()).isZero();
  }

  private static void awaitRefused(StreamsApp app, CheckpointMetrics metrics, String reason) {
    await("checkpoint refused as " + reason)
        .atMost(SWAP_DEADLINE)
        .until(() -> metrics.rejected(reason) == 1);
    assertThat(app.registry().find(SAE).orElseThrow().version()).isEqualTo(2);
    assertThat(metrics.swaps(SAE)).isEqualTo(2);
  }

  private static void awaitOutputs(TopicNames topics, long version, int atLeast) {
    await("at least " + atLeast + " outputs of v" + version)
        .atMost(SWAP_DEADLINE)
        .pollInterval(Duration.ofMillis(500))
        .until(
            () ->
                CLUSTER.get().readAll(topics.features(), FeatureBatch.class).stream()
                        .filter(r -> r.value().getSaeVersion() == version)
                        .count()
                    >= atLeast);
  }

  /** Waits until every batch has its output, then checks that none is duplicated or foreign. */
  private static <T extends SpecificRecord> Map<String, T> awaitExactlyOnce(
      String topic, Class<T> type, List<String> sequences, Function<T, String> sequenceOf) {
    List<T> values = new ArrayList<>();
    await("an output per batch on " + topic)
        .atMost(SWAP_DEADLINE)
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              values.clear();
              CLUSTER.get().readAll(topic, type).stream()
                  .map(ConsumerRecord::value)
                  .forEach(values::add);
              return values.size() >= sequences.size();
            });
    Map<String, Long> counts =
        values.stream()
            .collect(Collectors.groupingBy(sequenceOf, TreeMap::new, Collectors.counting()));
    assertThat(counts.keySet()).containsExactlyInAnyOrderElementsOf(sequences);
    assertThat(counts.values()).as("outputs per batch on %s", topic).containsOnly(1L);
    return values.stream().collect(Collectors.toMap(sequenceOf, Function.identity()));
  }

  private static void assertVersionsNeverGoBackWithinAPartition(Collection<FeatureBatch> features) {
    Map<Integer, List<FeatureBatch>> byPartition =
        features.stream().collect(Collectors.groupingBy(FeatureBatch::getSourcePartition));
    for (List<FeatureBatch> partition : byPartition.values()) {
      List<Long> versions =
          partition.stream()
              .sorted(Comparator.comparingLong(FeatureBatch::getSourceOffset))
              .map(FeatureBatch::getSaeVersion)
              .toList();
      assertThat(versions).isSorted();
    }
  }

  /**
   * Recomputes every batch with the fixture (v0) in a session of its own: v0 outputs equal it, v1
   * outputs have every value doubled (a power-of-two scale is exact in floating point), v2 outputs
   * have latent j at {@code d_sae - 1 - j}. Values within 1e-5 relative (float32 rounding of the
   * same sums in another order); indices exact.
   */
  private static void assertLatentsAreThoseOfTheServingModel(Collection<FeatureBatch> features) {
    try (InferenceEngine engine = InferenceEngine.create(InferenceSettings.defaults())) {
      DeployedSae reference =
          new SaeLoader(engine)
              .load(SaeDeployment.of("ref", SaeLensFixtures.saeDir(SwapFixtures.TOPK)));
      try {
        for (FeatureBatch batch : features) {
          int seed = Integer.parseInt(batch.getSequenceId().substring("seq-".length()));
          float[] x = ActivationBatches.values(TOKENS, D_IN, seed);
          List<Map<Integer, Float>> expected =
              reference
                  .session()
                  .analyze(FloatBuffer.wrap(x), TOKENS, a -> rows(a, batch.getSaeVersion()));
          assertThat(batch.getRowOffsets()).hasSize(TOKENS + 1);
          for (int t = 0; t < TOKENS; t++) {
            Map<Integer, Float> actual = new HashMap<>();
            for (int i = batch.getRowOffsets().get(t); i < batch.getRowOffsets().get(t + 1); i++) {
              actual.put(batch.getLatentIndices().get(i), batch.getLatentValues().get(i));
            }
            Map<Integer, Float> want = expected.get(t);
            assertThat(actual.keySet())
                .as(
                    "latents of %s token %d at v%d",
                    batch.getSequenceId(), t, batch.getSaeVersion())
                .isEqualTo(want.keySet());
            for (Map.Entry<Integer, Float> e : want.entrySet()) {
              assertThat(actual.get(e.getKey()))
                  .isCloseTo(e.getValue(), offset(1e-5f * Math.max(1f, Math.abs(e.getValue()))));
            }
          }
        }
      } finally {
        reference.session().close();
      }
    }
  }

  private static List<Map<Integer, Float>> rows(SaeAnalysis a, long version) {
    List<Map<Integer, Float>> rows = new ArrayList<>();
    for (int t = 0; t < a.tokens(); t++) {
      Map<Integer, Float> row = new HashMap<>();
      for (int s = 0; s < a.slots(); s++) {
        long index = a.index(t, s);
        if (index < 0) {
          continue;
        }
        float value = a.value(t, s);
        if (version == 1) {
          row.put((int) index, 2 * value);
        } else if (version == 2) {
          row.put(D_SAE - 1 - (int) index, value);
        } else {
          row.put((int) index, value);
        }
      }
      rows.add(row);
    }
    return rows;
  }

  /**
   * Produces one ActivationBatch ({@value #TOKENS} tokens, seeded by its number) every few
   * milliseconds on its own thread until stopped; remembers what was acknowledged, in order.
   */
  private static final class BatchFlow implements AutoCloseable {

    private final String topic;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger produced = new AtomicInteger();
    private final Map<Integer, String> acknowledged = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile @Nullable Throwable failure;

    BatchFlow(String topic) {
      this.topic = topic;
      this.thread = new Thread(this::run, "hot-swap-it-batches");
    }

    void start() {
      thread.start();
    }

    private void run() {
      try (KafkaProducer<byte[], byte[]> producer = CLUSTER.get().newProducer()) {
        for (int n = 0; running.get(); n++) {
          String sequence = "seq-" + n;
          ActivationBatch batch =
              ActivationBatches.f32(
                  sequence, TOKENS, D_IN, ActivationBatches.values(TOKENS, D_IN, n));
          producer
              .send(
                  new ProducerRecord<>(
                      topic,
                      sequence.getBytes(StandardCharsets.UTF_8),
                      CLUSTER.get().encode(topic, batch)))
              .get(10, TimeUnit.SECONDS);
          acknowledged.put(n, sequence);
          produced.incrementAndGet();
          // Pace the flow: a steady trickle across every swap, not a burst before them.
          Thread.sleep(20);
        }
      } catch (Exception e) {
        failure = e;
      }
    }

    int produced() {
      return produced.get();
    }

    List<String> sequences() {
      return sequencesFrom(0);
    }

    List<String> sequencesFrom(int first) {
      return acknowledged.entrySet().stream()
          .filter(e -> e.getKey() >= first)
          .sorted(Map.Entry.comparingByKey())
          .map(Map.Entry::getValue)
          .toList();
    }

    void stop() throws InterruptedException {
      running.set(false);
      thread.join(TimeUnit.SECONDS.toMillis(30));
      assertThat(thread.isAlive()).isFalse();
      assertThat(failure).isNull();
    }

    @Override
    public void close() {
      running.set(false);
      try {
        thread.join(TimeUnit.SECONDS.toMillis(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
