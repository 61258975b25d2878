package io.saestream.trainer.app;

import static io.saestream.trainer.app.MockActivationTopic.PARTITION;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.saestream.schema.checkpoint.CheckpointRelease;
import io.saestream.schema.checkpoint.PublishedCheckpoint;
import io.saestream.trainer.config.TrainerConfig;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.junit.jupiter.api.Test;

/** The time-based publication cadence, on a mock consumer and a clock the test moves. */
class TrainerAppCadenceTest {

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
        MockActivationTopic.trainer("s")
            .evalEvery(0)
            .publishEvery(100_000_000, "1m")
            .parse(Path.of("."), Map.of());
    MapSchemaRegistry registry = new MapSchemaRegistry();
    MockConsumer<String, byte[]> consumer = MockActivationTopic.consumer(registry, RECORDS, 1);
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
      assertThat(consumer.committed(Set.of(PARTITION))).doesNotContainKey(PARTITION);

      clock.now.set(clock.instant().plus(Duration.ofSeconds(61)));
      await().atMost(Duration.ofSeconds(20)).until(() -> app.published().size() == 1);
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> consumer.committed(Set.of(PARTITION)).containsKey(PARTITION));
      assertThat(consumer.committed(Set.of(PARTITION)))
          .hasEntrySatisfying(PARTITION, o -> assertThat(o.offset()).isEqualTo(RECORDS));
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
