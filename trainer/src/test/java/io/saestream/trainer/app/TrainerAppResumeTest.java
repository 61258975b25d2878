package io.saestream.trainer.app;

import static io.saestream.trainer.app.MockActivationTopic.PARTITION;
import static io.saestream.trainer.app.MockActivationTopic.TOKENS_PER_RECORD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.saestream.schema.checkpoint.CheckpointRelease;
import io.saestream.schema.checkpoint.PublishedCheckpoint;
import io.saestream.trainer.config.TrainerConfig;
import io.saestream.trainer.publish.CheckpointSink;
import io.saestream.trainer.state.StateManifest;
import io.saestream.trainer.state.StateStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Durable resume at the app level, on a mock consumer: a restarted app resumes every trainer from
 * the state directory, seeks to the positions saved with it (not the committed offsets), learns
 * from every record exactly once across restarts, and publishes above the highest version of both
 * the state and the checkpoints topic; publications and state saves never hold up the loop.
 */
class TrainerAppResumeTest {

  private static final String SAE = "s";

  @TempDir Path tmp;

  private final MapSchemaRegistry registry = new MapSchemaRegistry();
  private final ExecutorService loop = Executors.newSingleThreadExecutor();

  @AfterEach
  void stopLoop() {
    loop.shutdownNow();
  }

  private TrainerConfig config(long publishEveryTokens) {
    return MockActivationTopic.trainer(SAE)
        .state("state", 3)
        .evalEvery(3)
        .publishEvery(publishEveryTokens, "1h")
        .parse(tmp, Map.of());
  }

  /** What one run of the app did. */
  private record Run(List<CheckpointRelease> releases, long recordsTrained, long committed) {
    long lastVersion() {
      return releases.get(releases.size() - 1).version();
    }
  }

  /** Runs an app over {@code records} records until it trained {@code expected}, then stops it. */
  private Run run(TrainerConfig config, int records, long expected, Map<String, Long> firstVersions)
      throws Exception {
    MockConsumer<String, byte[]> consumer = MockActivationTopic.consumer(registry, records, 4);
    List<CheckpointRelease> releases = new CopyOnWriteArrayList<>();
    CheckpointSink sink =
        r -> {
          releases.add(r);
          return new PublishedCheckpoint(r.saeId(), r.version(), "00", 1, 1, 0, 0);
        };
    StateStore store = StateStore.open(Objects.requireNonNull(config.state().dir()), 2);
    try (TrainerApp app =
        new TrainerApp(
            config, consumer, registry, sink, null, firstVersions, store, Clock.systemUTC())) {
      Future<?> running = loop.submit(app::run);
      await().atMost(Duration.ofSeconds(30)).until(() -> app.recordsTrained() >= expected);
      app.shutdown();
      running.get(30, TimeUnit.SECONDS);
      assertThat(app.recordsTrained()).isEqualTo(expected);
      assertThat(app.lastSavedGeneration()).isPositive();
      long committed =
          Objects.requireNonNull(consumer.committed(Set.of(PARTITION)).get(PARTITION), "committed")
              .offset();
      return new Run(List.copyOf(releases), expected, committed);
    }
  }

  private StateManifest.Entry newestState() {
    StateManifest m = StateStore.newestManifest(tmp.resolve("state")).orElseThrow();
    return Objects.requireNonNull(m.entry(SAE), SAE);
  }

  private StateManifest newestManifest() {
    return StateStore.newestManifest(tmp.resolve("state")).orElseThrow();
  }

  @Test
  void aRestartedTrainerResumesSeeksPastWhatItLearnedAndPublishesAboveEveryVersion()
      throws Exception {
    TrainerConfig config = config(256);

    Run first = run(config, 20, 20, Map.of());
    assertThat(first.releases()).isNotEmpty();
    StateManifest afterFirst = newestManifest();
    StateManifest.Entry saved = newestState();
    assertThat(afterFirst.positions()).containsExactly(Map.entry(PARTITION, 20L));
    assertThat(saved.tokensSeen()).isEqualTo(20 * TOKENS_PER_RECORD);
    assertThat(saved.step()).isPositive();
    assertThat(saved.lastVersion()).isEqualTo(first.lastVersion());
    assertThat(first.committed()).isEqualTo(20);

    // The topic knows no version (as if it had been recreated): the state alone keeps the
    // sequence going. The consumer offers records 0..29 again; only 20..29 may be learned from.
    Run second = run(config, 30, 10, Map.of());
    assertThat(second.releases()).isNotEmpty();
    assertThat(second.releases().get(0).version()).isEqualTo(first.lastVersion() + 1);
    StateManifest.Entry resumed = newestState();
    assertThat(newestManifest().positions()).containsExactly(Map.entry(PARTITION, 30L));
    // Every record learned from once across the restart: no loss, no duplicate.
    assertThat(resumed.tokensSeen()).isEqualTo(30 * TOKENS_PER_RECORD);
    assertThat(resumed.step()).isGreaterThan(saved.step());
    assertThat(Objects.requireNonNull(second.releases().get(0).training()).step())
        .isGreaterThan(saved.step());

    // Now the topic is ahead of the state (a version published after the last save): it wins.
    long topicNext = second.lastVersion() + 10;
    Run third = run(config(64), 32, 2, Map.of(SAE, topicNext));
    assertThat(third.releases().get(0).version()).isEqualTo(topicNext);
    assertThat(newestState().lastVersion()).isEqualTo(third.lastVersion());
    assertThat(newestState().tokensSeen()).isEqualTo(32 * TOKENS_PER_RECORD);
  }

  @Test
  void trainingAndStateSavesContinueWhileAPublicationIsInFlight() throws Exception {
    TrainerConfig config = config(128);
    CountDownLatch release = new CountDownLatch(1);
    List<CheckpointRelease> releases = new CopyOnWriteArrayList<>();
    CheckpointSink blocked =
        r -> {
          try {
            // Stands for a slow fold, serialisation or Kafka send.
            if (!release.await(30, TimeUnit.SECONDS)) {
              throw new IllegalStateException("the test never released the publication");
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
          }
          releases.add(r);
          return new PublishedCheckpoint(r.saeId(), r.version(), "00", 1, 1, 0, 0);
        };
    MockConsumer<String, byte[]> consumer = MockActivationTopic.consumer(registry, 24, 4);
    StateStore store = StateStore.open(tmp.resolve("state"), 2);
    try (TrainerApp app =
        new TrainerApp(
            config, consumer, registry, blocked, null, Map.of(), store, Clock.systemUTC())) {
      Future<?> running = loop.submit(app::run);
      // The first round starts after the first poll's records; the rest are trained on and a
      // state is saved while that publication cannot finish.
      await().atMost(Duration.ofSeconds(30)).until(() -> app.recordsTrained() == 24);
      await().atMost(Duration.ofSeconds(30)).until(() -> app.lastSavedGeneration() >= 2);
      assertThat(app.published()).isEmpty();
      assertThat(releases).isEmpty();
      release.countDown();
      app.shutdown();
      running.get(30, TimeUnit.SECONDS);
      assertThat(app.published()).isNotEmpty();
    }
    assertThat(newestState().tokensSeen()).isEqualTo(24 * TOKENS_PER_RECORD);
  }
}
