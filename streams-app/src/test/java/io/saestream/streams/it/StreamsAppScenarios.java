package io.saestream.streams.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.FeatureBatch;
import io.saestream.schema.v1.ReconstructionStats;
import io.saestream.streams.StreamsApp;
import io.saestream.streams.config.SaeDeployment;
import io.saestream.streams.config.TopicNames;
import io.saestream.streams.errors.DeadLetterHeaders;
import io.saestream.streams.errors.DeadLetterMetrics;
import io.saestream.streams.errors.DeadLetterReason;
import io.saestream.streams.testing.ActivationBatches;
import io.saestream.streams.testing.SaeLensFixtures;
import io.saestream.streams.testing.SaeStreamCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;

/**
 * The exactly-once scenarios of the streams app, run against whatever broker a {@link
 * SaeStreamCluster} reaches: the in-JVM KRaft broker ({@link StreamsAppIT}) or a Testcontainers
 * Kafka ({@code io.saestream.streams.containers.KafkaContainerStreamsAppIT}). Every scenario
 * creates its own topics (unique names) and uses its own application id, so the scenarios can share
 * one cluster. Not thread-safe: one scenario at a time.
 */
public final class StreamsAppScenarios {

  private static final int D_IN = 32;
  private static final int TOKENS = 4;
  private static final Duration PROCESSING_DEADLINE = Duration.ofSeconds(45);

  private final SaeStreamCluster cluster;

  /** Scenarios on {@code cluster} (not owned). */
  public StreamsAppScenarios(SaeStreamCluster cluster) {
    this.cluster = cluster;
  }

  private static List<SaeDeployment> deployments() {
    return List.of(
        SaeDeployment.of("topk", SaeLensFixtures.saeDir("topk_rescale_folded")),
        SaeDeployment.of("gated", SaeLensFixtures.saeDir("gated")));
  }

  /**
   * 40 records, a quarter of them bad (undecodable, NaN, unrouted), to a 2-partition topic, one
   * instance with two stream threads: each good record yields exactly one FeatureBatch and one
   * ReconstructionStats per SAE, each bad one exactly one dead letter with its reason, as a
   * read-committed consumer sees them; the dead-letter metrics agree.
   */
  public void goodAndBadBatchesEachEndUpExactlyOnceInTheirTopic(Path stateDirs) throws Exception {
    TopicNames topics = cluster.createTopics("mixed", 2);
    String appId = "sae-it-mixed";
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    int good = 0;
    Map<DeadLetterReason, Integer> bad = new HashMap<>();
    for (int i = 0; i < 40; i++) {
      if (i % 4 == 3) {
        DeadLetterReason reason = badRecord(topics, i, records);
        bad.merge(reason, 1, Integer::sum);
      } else {
        records.add(goodRecord(topics, i));
        good++;
      }
    }
    int badTotal = records.size() - good;

    try (StreamsApp app =
        cluster.startApp(
            cluster.appConfig(appId, topics, stateDirs.resolve("a"), 2, deployments()))) {
      cluster.produce(records);
      awaitProcessed(appId, topics, records.size());

      assertThat(DeadLetterMetrics.total(app.kafkaStreams().metrics())).isEqualTo(badTotal);
      for (Map.Entry<DeadLetterReason, Integer> e : bad.entrySet()) {
        assertThat(DeadLetterMetrics.total(app.kafkaStreams().metrics(), e.getKey()))
            .as("dead letters %s", e.getKey())
            .isEqualTo((long) e.getValue());
      }
    }

    List<ConsumerRecord<String, FeatureBatch>> features =
        cluster.readAll(topics.features(), FeatureBatch.class);
    List<ConsumerRecord<String, ReconstructionStats>> stats =
        cluster.readAll(topics.reconstruction(), ReconstructionStats.class);
    List<ConsumerRecord<byte[], byte[]>> deadLetters = cluster.readAllBytes(topics.deadLetter());
    assertExactlyOnce(
        features,
        FeatureBatch::getSequenceId,
        FeatureBatch::getStartPosition,
        FeatureBatch::getSaeId,
        good * 2);
    assertExactlyOnce(
        stats,
        ReconstructionStats::getSequenceId,
        ReconstructionStats::getStartPosition,
        ReconstructionStats::getSaeId,
        good * 2);
    assertThat(deadLetters).hasSize(badTotal);
    Map<String, Long> byReason =
        deadLetters.stream()
            .collect(
                Collectors.groupingBy(
                    r ->
                        new String(
                            r.headers().lastHeader(DeadLetterHeaders.REASON).value(),
                            StandardCharsets.UTF_8),
                    Collectors.counting()));
    bad.forEach((reason, n) -> assertThat(byReason).containsEntry(reason.name(), (long) n));
  }

  /**
   * A steady stream of 160 records to a 4-partition topic while a second instance joins the group
   * of the first: nothing is lost or duplicated across the rebalance.
   */
  public void aSecondInstanceJoiningMidStreamLosesAndDuplicatesNothing(Path stateDirs)
      throws Exception {
    TopicNames topics = cluster.createTopics("rebalance", 4);
    String appId = "sae-it-rebalance";
    int total = 160;
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int i = 0; i < total; i++) {
      records.add(goodRecord(topics, i));
    }
    // A steady stream, one record per 50 ms, so that records are in flight while B joins.
    AtomicInteger produced = new AtomicInteger();
    ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor();
    KafkaProducer<byte[], byte[]> producer = cluster.newProducer();
    StreamsApp a =
        cluster.startApp(
            cluster.appConfig(appId, topics, stateDirs.resolve("a"), 1, deployments()));
    StreamsApp b = null;
    try {
      ScheduledFuture<?> producing =
          pacer.scheduleAtFixedRate(
              () -> {
                int next = produced.get();
                if (next < total) {
                  try {
                    producer.send(records.get(next)).get();
                  } catch (InterruptedException | ExecutionException e) {
                    throw new IllegalStateException("producing record " + next, e);
                  }
                  produced.incrementAndGet();
                }
              },
              0,
              50,
              TimeUnit.MILLISECONDS);
      await()
          .atMost(PROCESSING_DEADLINE)
          .until(() -> cluster.committedOffsets(appId, topics.activations()) > 0);
      int beforeJoin = produced.get();

      b =
          cluster.startApp(
              cluster.appConfig(appId, topics, stateDirs.resolve("b"), 1, deployments()));
      StreamsApp joined = b;
      await()
          .atMost(PROCESSING_DEADLINE)
          .untilAsserted(
              () -> {
                assertThat(joined.kafkaStreams().state()).isEqualTo(KafkaStreams.State.RUNNING);
                assertThat(activeTasks(joined)).isPositive();
                assertThat(activeTasks(a)).isPositive();
              });
      int afterJoin = produced.get();
      assertThat(beforeJoin).as("records produced before B joined").isPositive();
      assertThat(afterJoin).as("records produced after B got its tasks").isLessThan(total);

      await()
          .atMost(PROCESSING_DEADLINE)
          .until(
              () -> {
                if (producing.isDone()) {
                  producing.get(); // surfaces the producer's failure
                }
                return produced.get() == total;
              });
      awaitProcessed(appId, topics, total);
    } finally {
      pacer.shutdownNow();
      producer.close();
      a.close();
      if (b != null) {
        b.close();
      }
    }

    assertExactlyOnce(
        cluster.readAll(topics.features(), FeatureBatch.class),
        FeatureBatch::getSequenceId,
        FeatureBatch::getStartPosition,
        FeatureBatch::getSaeId,
        total * 2);
    assertExactlyOnce(
        cluster.readAll(topics.reconstruction(), ReconstructionStats.class),
        ReconstructionStats::getSequenceId,
        ReconstructionStats::getStartPosition,
        ReconstructionStats::getSaeId,
        total * 2);
    assertThat(cluster.readAllBytes(topics.deadLetter())).isEmpty();
  }

  // ---------------------------------------------------------------------------------------------

  private static long activeTasks(StreamsApp app) {
    return app.kafkaStreams().metadataForLocalThreads().stream()
        .mapToLong(t -> t.activeTasks().size())
        .sum();
  }

  private void awaitProcessed(String appId, TopicNames topics, long records) {
    // Input offsets are committed in the same transaction as the outputs of those records.
    await()
        .atMost(PROCESSING_DEADLINE)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> cluster.committedOffsets(appId, topics.activations()) == records);
  }

  private ProducerRecord<byte[], byte[]> goodRecord(TopicNames topics, int i) {
    ActivationBatch batch =
        ActivationBatches.builder(
                ActivationBatches.FIXTURE_MODEL,
                ActivationBatches.FIXTURE_HOOK,
                "seq-" + i % 7,
                TOKENS,
                D_IN)
            .setStartPosition(i * TOKENS)
            .setDtype(io.saestream.schema.v1.Dtype.F32)
            .setData(littleEndian(ActivationBatches.values(TOKENS, D_IN, i)))
            .build();
    return new ProducerRecord<>(
        topics.activations(),
        key(batch.getSequenceId()),
        cluster.encode(topics.activations(), batch));
  }

  private DeadLetterReason badRecord(
      TopicNames topics, int i, List<ProducerRecord<byte[], byte[]>> records) {
    byte[] key = key("bad-" + i);
    switch ((i / 4) % 3) {
      case 0 -> {
        records.add(new ProducerRecord<>(topics.activations(), key, new byte[] {42, 42}));
        return DeadLetterReason.UNDECODABLE;
      }
      case 1 -> {
        float[] values = ActivationBatches.values(TOKENS, D_IN, i);
        values[3] = Float.NaN;
        ActivationBatch nan = ActivationBatches.f32("bad-" + i, TOKENS, D_IN, values);
        records.add(
            new ProducerRecord<>(
                topics.activations(), key, cluster.encode(topics.activations(), nan)));
        return DeadLetterReason.NON_FINITE_VALUES;
      }
      default -> {
        ActivationBatch unrouted =
            ActivationBatches.f32(
                "other-model",
                ActivationBatches.FIXTURE_HOOK,
                "bad-" + i,
                TOKENS,
                D_IN,
                ActivationBatches.values(TOKENS, D_IN, i));
        records.add(
            new ProducerRecord<>(
                topics.activations(), key, cluster.encode(topics.activations(), unrouted)));
        return DeadLetterReason.NO_SAE_FOR_HOOK;
      }
    }
  }

  private static <T> void assertExactlyOnce(
      List<ConsumerRecord<String, T>> records,
      Function<T, String> sequenceId,
      Function<T, Integer> startPosition,
      Function<T, String> saeId,
      int expected) {
    Map<String, Long> counts =
        records.stream()
            .map(ConsumerRecord::value)
            .collect(
                Collectors.groupingBy(
                    v -> sequenceId.apply(v) + "@" + startPosition.apply(v) + "/" + saeId.apply(v),
                    Collectors.counting()));
    assertThat(counts.values()).as("copies per (sequence, position, sae)").containsOnly(1L);
    assertThat(records).hasSize(expected);
  }

  private static byte[] key(String id) {
    return id.getBytes(StandardCharsets.UTF_8);
  }

  private static java.nio.ByteBuffer littleEndian(float[] values) {
    java.nio.ByteBuffer b =
        java.nio.ByteBuffer.allocate(values.length * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    return b.flip();
  }
}
