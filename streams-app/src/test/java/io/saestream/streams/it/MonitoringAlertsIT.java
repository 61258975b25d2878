package io.saestream.streams.it;

import static io.saestream.streams.it.MonitoringFixtures.Kind.BURST;
import static io.saestream.streams.it.MonitoringFixtures.Kind.DRIFT;
import static io.saestream.streams.it.MonitoringFixtures.Kind.NORMAL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.saestream.schema.v1.FeatureAlert;
import io.saestream.streams.StreamsApp;
import io.saestream.streams.config.MonitoringSettings;
import io.saestream.streams.config.SaeDeployment;
import io.saestream.streams.config.StreamsAppConfig;
import io.saestream.streams.config.TopicNames;
import io.saestream.streams.monitoring.MonitoringQueries;
import io.saestream.streams.monitoring.MonitoringStores;
import io.saestream.streams.testing.ClusterPerClass;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Alerting end to end on a real broker, exactly-once: ten windows of synthetic traffic over three
 * input partitions (two stream threads), with a latent burst in one sequence of window 3 and a
 * drift episode over windows 6 and 7, produce exactly the expected alerts on the alerts topic (read
 * committed): the burst's per-sequence threshold alert and its per-SAE rate alert, and one drift
 * alert per drifted window, each within two windows of its onset, none elsewhere and none twice.
 * Event times are chosen by the test; traffic is produced a window at a time, each processed
 * (offsets committed on the input and the aggregates topic) before the next, so the windows are
 * deterministic.
 */
class MonitoringAlertsIT {

  private static final Duration WINDOW = Duration.ofSeconds(10);
  private static final int WINDOWS = 10;
  private static final int SEQUENCES_PER_WINDOW = 12;
  private static final int BURST_WINDOW = 3;
  private static final String BURST_SEQUENCE = "w3-s5";
  private static final int DRIFT_FROM = 6;
  private static final int DRIFT_TO = 7;
  private static final String SAE = "identity";
  private static final Duration DEADLINE = Duration.ofSeconds(30);

  @RegisterExtension static final ClusterPerClass CLUSTER = new ClusterPerClass();

  @TempDir Path dir;

  private static String rules() {
    String window = WINDOW.toMillis() + "ms";
    return String.join(
        "\n",
        "rules:",
        "  - id: burst",
        "    type: latent-threshold",
        "    sae-id: " + SAE,
        "    severity: critical",
        "    latent: " + MonitoringFixtures.BURST_LATENT,
        "    min-activation: 5.0",
        "    min-tokens: 3",
        "    window: " + window,
        "  - id: burst-rate",
        "    type: latent-rate",
        "    sae-id: " + SAE,
        "    latent: " + MonitoringFixtures.BURST_LATENT,
        "    factor: 3",
        "    min-rate: 0.01",
        "    warmup-windows: 2",
        "    window: " + window,
        "  - id: drift",
        "    type: drift",
        "    sae-id: " + SAE,
        "    metric: fvu",
        "    threshold: 0.5",
        "    min-tokens: 50",
        "    window: " + window,
        "");
  }

  @Test
  void burstAndDriftProduceExactlyTheExpectedAlertsEachWithinTwoWindowsOfItsOnset()
      throws Exception {
    TopicNames topics = CLUSTER.get().createTopics("monitor", 3);
    String suffix = topics.activations().substring(topics.activations().lastIndexOf('.'));
    MonitoringSettings monitoring =
        MonitoringSettings.defaults()
            .withEnabled(true)
            .withTopics(
                "monitor.alerts" + suffix, "monitor.rules" + suffix, "monitor.aggregates" + suffix)
            .withRulesFile(
                Files.writeString(dir.resolve("rules.yaml"), rules(), StandardCharsets.UTF_8))
            .withStatsWindow(WINDOW)
            .withWindowGrace(Duration.ofSeconds(2));
    CLUSTER.get().createMonitoringTopics(monitoring.alertsTopic(), monitoring.rulesTopic());
    String appId = "sae-it-alerts";
    StreamsAppConfig config =
        CLUSTER
            .get()
            .appConfig(
                appId,
                topics,
                dir.resolve("state"),
                2,
                List.of(
                    SaeDeployment.of(SAE, MonitoringFixtures.identitySae(dir.resolve("sae"), 1f))))
            .withMonitoring(monitoring);

    long t0 = MonitoringFixtures.alignedStart(WINDOW, 30);
    Random random = new Random(7);
    try (StreamsApp app = CLUSTER.get().startApp(config)) {
      int produced = 0;
      for (int w = 0; w < WINDOWS; w++) {
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (int s = 0; s < SEQUENCES_PER_WINDOW; s++) {
          String sequence = "w" + w + "-s" + s;
          MonitoringFixtures.Kind kind =
              sequence.equals(BURST_SEQUENCE)
                  ? BURST
                  : w >= DRIFT_FROM && w <= DRIFT_TO ? DRIFT : NORMAL;
          long ts = t0 + w * WINDOW.toMillis() + s * 500L;
          records.add(
              MonitoringFixtures.record(
                  CLUSTER.get(),
                  topics.activations(),
                  s % 3,
                  MonitoringFixtures.batch(sequence, kind, random),
                  ts));
        }
        CLUSTER.get().produce(records);
        produced += records.size();
        awaitProcessed(app, appId, topics, monitoring, produced);
      }
      assertThat(app.failed()).isFalse();
      assertThat(app.recentAlerts().total()).isEqualTo(4);
    }

    List<ConsumerRecord<String, FeatureAlert>> read =
        CLUSTER.get().readAll(monitoring.alertsTopic(), FeatureAlert.class);
    Map<String, FeatureAlert> byId = new TreeMap<>();
    read.forEach(r -> byId.put(r.key(), r.value()));
    assertThat(read).as("no alert twice (exactly once)").hasSize(byId.size());
    long w3 = t0 + BURST_WINDOW * WINDOW.toMillis();
    long w6 = t0 + DRIFT_FROM * WINDOW.toMillis();
    long w7 = t0 + DRIFT_TO * WINDOW.toMillis();
    assertThat(byId.keySet())
        .containsExactlyInAnyOrder(
            "burst/" + SAE + "/" + BURST_SEQUENCE + "/" + w3,
            "burst-rate/" + SAE + "/" + w3,
            "drift/" + SAE + "/" + w6,
            "drift/" + SAE + "/" + w7);
    for (FeatureAlert a : byId.values()) {
      long onset = a.getRuleId().equals("drift") ? w6 : w3;
      long start = a.getWindowStart().toEpochMilli();
      assertThat(start - onset)
          .as("%s within two windows of its onset", a.getAlertId())
          .isGreaterThanOrEqualTo(0)
          .isLessThan(2 * WINDOW.toMillis());
    }

    FeatureAlert burst =
        java.util.Objects.requireNonNull(
            byId.get("burst/" + SAE + "/" + BURST_SEQUENCE + "/" + w3));
    assertThat(burst.getSequenceIds()).containsExactly(BURST_SEQUENCE);
    assertThat(burst.getObservedValue())
        .isEqualTo(MonitoringFixtures.BURST_VALUE, org.assertj.core.api.Assertions.within(1e-5));
    assertThat(burst.getTokenContext()).isNotNull();
    assertThat(burst.getTokenContext().getTokens()).contains(" tok4");

    FeatureAlert rate = java.util.Objects.requireNonNull(byId.get("burst-rate/" + SAE + "/" + w3));
    // 4 burst tokens of 12 × 8 in the window, seen across all three partitions.
    assertThat(rate.getObservedValue())
        .isEqualTo(
            4.0 / (SEQUENCES_PER_WINDOW * MonitoringFixtures.TOKENS),
            org.assertj.core.api.Assertions.within(1e-12));
    assertThat(rate.getSequenceIds()).containsExactly(BURST_SEQUENCE);
    assertThat(rate.getTokenContext().getSequenceId()).isEqualTo(BURST_SEQUENCE);

    Map<String, Long> driftSequences =
        byId.values().stream()
            .filter(a -> a.getRuleId().equals("drift"))
            .collect(
                Collectors.toMap(FeatureAlert::getAlertId, a -> (long) a.getSequenceIds().size()));
    assertThat(driftSequences.values()).allMatch(n -> n > 0);
    for (FeatureAlert a : byId.values()) {
      if (a.getRuleId().equals("drift")) {
        assertThat(a.getObservedValue()).isGreaterThan(0.5);
        assertThat(a.getLatentIndex()).isNull();
      }
    }
  }

  /**
   * Until every record so far is committed on the input and its summary is in the SAE's statistics
   * (so the per-SAE monitor has seen it: committed offsets of the transactional aggregates topic
   * also count commit markers, so they cannot tell).
   */
  private static void awaitProcessed(
      StreamsApp app, String appId, TopicNames topics, MonitoringSettings monitoring, int records) {
    MonitoringQueries queries =
        new MonitoringQueries(monitoring, MonitoringStores.of(app.kafkaStreams()));
    await()
        .atMost(DEADLINE)
        .pollInterval(Duration.ofMillis(100))
        .ignoreException(InvalidStateStoreException.class)
        .until(
            () ->
                CLUSTER.get().committedOffsets(appId, topics.activations()) >= records
                    && queries.windows(SAE, 1000).windows().stream()
                            .mapToLong(MonitoringQueries.WindowRow::tokens)
                            .sum()
                        == (long) records * MonitoringFixtures.TOKENS);
  }
}
