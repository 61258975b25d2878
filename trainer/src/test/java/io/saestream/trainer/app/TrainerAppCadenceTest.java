package io.saestream.trainer.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.saestream.schema.checkpoint.CheckpointRelease;
import io.saestream.schema.checkpoint.PublishedCheckpoint;
import io.saestream.schema.serde.AvroSerdeConfig;
import io.saestream.schema.serde.SpecificAvroSerializer;
import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.Dtype;
import io.saestream.trainer.config.TrainerConfig;
import io.saestream.trainer.config.TrainerConfigLoader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** The time-based publication cadence, on a mock consumer and a clock the test moves. */
class TrainerAppCadenceTest {

  private static final String TOPIC = "acts";
  private static final TopicPartition TP = new TopicPartition(TOPIC, 0);
  private static final int D_IN = 8;
  private static final int TOKENS = 32;
  private static final int RECORDS = 10;

  /** A clock that only moves when told to. */
  static final class SettableClock extends Clock {
    final AtomicReference<Instant> now =
        new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return java.util.Objects.requireNonNull(now.get(), "now");
    }
  }

  @Test
  void publishesWhenPublishEveryElapsesAndCommitsAfterward() throws Exception {
    TrainerConfig config =
        TrainerConfigLoader.parse(
            """
            topics:
              activations: acts
            runtime:
              intra-op-threads: 1
              poll-timeout: 10ms
            trainers:
              - sae-id: s
                model-id: m
                hook-name: h
                d-in: 8
                d-sae: 16
                k: 2
                batch-size: 32
                buffer-tokens: 64
                eval-every: 0
                publish-every-tokens: 100000000
                publish-every: 1m
            """,
            Path.of("."),
            Map.of());
    MapSchemaRegistry registry = new MapSchemaRegistry();
    SpecificAvroSerializer<ActivationBatch> serializer =
        new SpecificAvroSerializer<>(registry, AvroSerdeConfig.forValues());
    MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest");
    consumer.schedulePollTask(
        () -> {
          consumer.rebalance(List.of(TP));
          consumer.updateBeginningOffsets(Map.of(TP, 0L));
          SplittableRandom rng = new SplittableRandom(1);
          for (int r = 0; r < RECORDS; r++) {
            ByteBuffer data = ByteBuffer.allocate(TOKENS * D_IN * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < TOKENS * D_IN; i++) {
              data.putFloat((float) rng.nextGaussian());
            }
            ActivationBatch b =
                ActivationBatch.newBuilder()
                    .setModelId("m")
                    .setHookName("h")
                    .setSequenceId("q" + r)
                    .setStartPosition(0)
                    .setNTokens(TOKENS)
                    .setDIn(D_IN)
                    .setDtype(Dtype.F32)
                    .setData(ByteBuffer.wrap(data.array()))
                    .setProducedAt(Instant.EPOCH)
                    .setAttributes(Map.of())
                    .build();
            consumer.addRecord(
                new ConsumerRecord<>(TOPIC, 0, r, "q" + r, serializer.serialize(TOPIC, b)));
          }
        });
    List<CheckpointRelease> releases = new CopyOnWriteArrayList<>();
    SettableClock clock = new SettableClock();
    ExecutorService loop = Executors.newSingleThreadExecutor();
    try (TrainerApp app =
        new TrainerApp(
            config,
            consumer,
            registry,
            r -> {
              releases.add(r);
              return new PublishedCheckpoint(r.saeId(), r.version(), "00", 1, 1, 0, 0);
            },
            null,
            Map.of("s", 7L),
            clock)) {
      Future<?> running = loop.submit(app::run);
      await().atMost(Duration.ofSeconds(20)).until(() -> app.recordsTrained() == RECORDS);
      // Neither cadence reached: nothing published, nothing committed.
      assertThat(app.published()).isEmpty();
      assertThat(consumer.committed(Set.of(TP))).doesNotContainKey(TP);

      clock.now.set(clock.instant().plus(Duration.ofSeconds(61)));
      await().atMost(Duration.ofSeconds(20)).until(() -> app.published().size() == 1);
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> consumer.committed(Set.of(TP)).containsKey(TP));
      assertThat(consumer.committed(Set.of(TP)))
          .hasEntrySatisfying(TP, o -> assertThat(o.offset()).isEqualTo(RECORDS));
      // The injected first version is honoured.
      assertThat(releases).singleElement().satisfies(r -> assertThat(r.version()).isEqualTo(7));

      app.shutdown();
      running.get();
      // Nothing trained since: the shutdown round publishes nothing more.
      assertThat(app.published()).hasSize(1);
    } finally {
      loop.shutdownNow();
    }
  }
}
