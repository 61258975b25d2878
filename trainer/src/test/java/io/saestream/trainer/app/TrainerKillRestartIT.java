package io.saestream.trainer.app;

import static io.saestream.trainer.app.SyntheticActivationStream.TOKENS_PER_RECORD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.saestream.schema.v1.Dtype;
import io.saestream.schema.v1.SaeCheckpoint;
import io.saestream.trainer.cli.TrainerCommand;
import io.saestream.trainer.state.StateManifest;
import io.saestream.trainer.state.StateStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer killed with SIGKILL ({@link Process#destroyForcibly()}: no shutdown hook, no final
 * publication or save) in a child JVM, then restarted on the same state directory: it resumes from
 * its last durable state (its step continues, it does not start over), seeks to the positions saved
 * with that state even when the group's committed offset says otherwise, learns from every record
 * exactly once across the kill, and every version it publishes is above those published before.
 */
class TrainerKillRestartIT {

  private static final String ACTIVATIONS = "kill.activations";
  private static final String CHECKPOINTS = "kill.checkpoints";
  private static final String GROUP = "kill-trainer";
  private static final String SAE = "kill-sae";
  private static final TopicPartition TP = new TopicPartition(ACTIVATIONS, 0);
  private static final int FIRST_RECORDS = 240;
  private static final int MORE_RECORDS = 60;

  @TempDir Path tmp;

  @Test
  @Timeout(240)
  void aKilledTrainerResumesFromItsStateSeeksToItAndVersionsOnlyGoUp() throws Exception {
    try (TrainerBroker kafka = TrainerBroker.start(ACTIVATIONS, 1, CHECKPOINTS)) {
      produce(kafka, 0, FIRST_RECORDS);
      Path config =
          SyntheticActivationStream.trainer(SAE, ACTIVATIONS, CHECKPOINTS)
              .connectTo(
                  kafka,
                  GROUP,
                  Map.of(
                      "max.poll.records",
                      2,
                      "session.timeout.ms",
                      6000,
                      "heartbeat.interval.ms",
                      1000))
              .state("state", 4)
              .evalEvery(3)
              .publishEvery(1024, "1h")
              .writeTo(tmp.resolve("trainer.yaml"));
      Path stateDir = tmp.resolve("state");

      // 1. Train until at least one version is on the topic and a state generation holds
      //    training, then kill -9 while it is still consuming.
      Process first = startTrainer(config, tmp.resolve("first.log"));
      StateManifest atKill;
      try {
        await("a published version and a saved state")
            .atMost(Duration.ofMinutes(2))
            .pollInterval(Duration.ofMillis(200))
            .until(
                () ->
                    !kafka.manifests().isEmpty()
                        && StateStore.newestManifest(stateDir)
                            .map(m -> stepOf(m) > 0)
                            .orElse(false));
      } catch (RuntimeException | AssertionError e) {
        throw new AssertionError(describe(first, tmp.resolve("first.log")), e);
      } finally {
        first.destroyForcibly();
        assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
      }
      List<SaeCheckpoint> beforeKill = kafka.manifests();
      long highestBeforeKill = beforeKill.get(beforeKill.size() - 1).getVersion();
      atKill = StateStore.newestManifest(stateDir).orElseThrow();
      long positionAtKill = Objects.requireNonNull(atKill.positions().get(TP), "position");
      assertThat(stepOf(atKill)).isPositive();
      assertThat(entry(atKill).tokensSeen()).isEqualTo(positionAtKill * TOKENS_PER_RECORD);
      assertThat(Files.readString(tmp.resolve("first.log"), StandardCharsets.UTF_8))
          .doesNotContain("resumed from state generation");

      // 2. Make the group's committed offset disagree with the state: a trainer that trusted it
      //    would learn from the first records twice.
      rewindCommittedOffset(kafka);
      produce(kafka, FIRST_RECORDS, MORE_RECORDS);

      // 3. Restart on the same state directory; let it publish past the versions of the first
      //    run, then stop it cleanly (SIGTERM: final publication and save).
      Process second = startTrainer(config, tmp.resolve("second.log"));
      try {
        // Not "every record": the trainer holds its shuffle buffer's worth of records back until
        // more arrive, and saves every few steps, so the newest state can stop short of the end.
        await("a version above v" + highestBeforeKill + " and a state past the first run's records")
            .atMost(Duration.ofMinutes(2))
            .pollInterval(Duration.ofMillis(200))
            .until(
                () ->
                    kafka.manifests().stream().anyMatch(m -> m.getVersion() > highestBeforeKill)
                        && StateStore.newestManifest(stateDir)
                            .map(m -> m.positions().getOrDefault(TP, 0L) > FIRST_RECORDS)
                            .orElse(false));
      } catch (RuntimeException | AssertionError e) {
        throw new AssertionError(describe(second, tmp.resolve("second.log")), e);
      } finally {
        second.destroy();
        if (!second.waitFor(60, TimeUnit.SECONDS)) {
          second.destroyForcibly();
        }
      }
      String secondLog = Files.readString(tmp.resolve("second.log"), StandardCharsets.UTF_8);
      assertThat(secondLog)
          .contains("resumed from state generation " + atKill.generation())
          .contains("resuming at offset " + positionAtKill);

      List<SaeCheckpoint> all = kafka.manifests();
      for (int i = 1; i < all.size(); i++) {
        assertThat(all.get(i).getVersion())
            .as("versions in topic order")
            .isGreaterThan(all.get(i - 1).getVersion());
      }
      SaeCheckpoint firstAfterRestart =
          all.stream().filter(m -> m.getVersion() > highestBeforeKill).findFirst().orElseThrow();
      // It continued from the saved step: never from 0.
      assertThat(firstAfterRestart.getMetrics()).isNotNull();
      assertThat(firstAfterRestart.getMetrics().getStep()).isGreaterThan(stepOf(atKill));

      StateManifest last = StateStore.newestManifest(stateDir).orElseThrow();
      long finalPosition = Objects.requireNonNull(last.positions().get(TP), "position");
      assertThat(finalPosition).isGreaterThan(positionAtKill).isGreaterThan(FIRST_RECORDS);
      // Exactly once across the kill: the tokens learned from are those of the records before
      // the saved position, neither fewer (loss) nor more (a replay from the rewound offset).
      assertThat(entry(last).tokensSeen()).isEqualTo(finalPosition * TOKENS_PER_RECORD);
      assertThat(entry(last).step()).isGreaterThan(stepOf(atKill));
      assertThat(entry(last).lastVersion()).isEqualTo(all.get(all.size() - 1).getVersion());
    }
  }

  /** Whether the child is alive (or its exit code) and the end of its log. */
  private static String describe(Process child, Path log) throws IOException {
    String text = Files.readString(log, StandardCharsets.UTF_8);
    return (child.isAlive() ? "trainer running" : "trainer exited with " + child.exitValue())
        + "; the end of its log:\n"
        + text.substring(Math.max(0, text.length() - 6000));
  }

  private static StateManifest.Entry entry(StateManifest m) {
    return Objects.requireNonNull(m.entry(SAE), SAE);
  }

  private static long stepOf(StateManifest m) {
    StateManifest.Entry e = m.entry(SAE);
    return e == null ? 0 : e.step();
  }

  /** The trainer's own main in a child JVM with this test's class path, logging to {@code log}. */
  private static Process startTrainer(Path config, Path log) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command =
        List.of(
            java,
            "-Xmx256m",
            "-cp",
            System.getProperty("java.class.path"),
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            "-Dorg.slf4j.simpleLogger.log.io.saestream=info",
            TrainerCommand.class.getName(),
            "--config",
            config.toString());
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }

  /**
   * Waits for the killed member to leave the group (its session times out), then commits offset 0
   * for the group, as an operator's reset or an old commit would leave it.
   */
  private static void rewindCommittedOffset(TrainerBroker kafka) throws Exception {
    try (Admin admin = kafka.admin()) {
      await("the killed member's session to expire")
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () ->
                  admin.describeConsumerGroups(List.of(GROUP)).all().get().values().stream()
                      .allMatch(g -> g.groupState() == GroupState.EMPTY));
      admin.alterConsumerGroupOffsets(GROUP, Map.of(TP, new OffsetAndMetadata(0))).all().get();
    }
    assertThat(kafka.committedOffsets(GROUP)).containsEntry(TP, 0L);
  }

  /** Sends records {@code [from, from + count)}, record {@code r} drawn from seed {@code r}. */
  private static void produce(TrainerBroker kafka, int from, int count) {
    try (ActivationProducer producer = kafka.activationProducer()) {
      for (int r = from; r < from + count; r++) {
        producer.send(
            SyntheticActivationStream.record("seq-" + r, Dtype.F32, new SplittableRandom(r)));
      }
    }
  }
}
