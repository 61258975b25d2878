package io.saestream.streams.monitoring;

import static io.saestream.streams.monitoring.MonitorHarness.SAE;
import static io.saestream.streams.monitoring.MonitorHarness.T0;
import static io.saestream.streams.monitoring.MonitorHarness.batch;
import static io.saestream.streams.monitoring.MonitorHarness.minutes;
import static io.saestream.streams.monitoring.MonitorHarness.tokens;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.saestream.schema.v1.AlertSeverity;
import io.saestream.schema.v1.FeatureAlert;
import io.saestream.schema.v1.FeatureBatch;
import io.saestream.streams.config.MonitoringSettings;
import io.saestream.streams.errors.DeadLetterHeaders;
import io.saestream.streams.errors.DeadLetterReason;
import io.saestream.streams.monitoring.rules.DriftRule;
import io.saestream.streams.monitoring.rules.LatentRateRule;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The repartition path: summaries of one SAE from several input partitions meet in the per-SAE
 * monitor, which judges rate and drift over all of them, once per SAE and window, and keeps one set
 * of statistics. Summaries are piped into the aggregates topic directly, as the per-sequence
 * monitors of three input partitions would send them, interleaved and late within the grace.
 */
class SaeAggregationTopologyTest {

  private static final long MINUTE = 60_000;
  private static final long SECOND = 1_000;
  private static final Duration GRACE = Duration.ofSeconds(30);

  @TempDir Path stateDir;
  private MonitorHarness h;
  private final BatchSummarizer summarizer = new BatchSummarizer(5);
  private int sequences;

  @BeforeEach
  void open() {
    h =
        new MonitorHarness(
            stateDir, MonitoringSettings.defaults().withEnabled(true).withWindowGrace(GRACE));
  }

  @AfterEach
  void close() {
    h.close();
  }

  /** Pipes the summary of {@code batch}, as read from input partition {@code p}, at {@code ts}. */
  private String fromPartition(int p, AnalyzedBatch batch, long timestamp) {
    AnalyzedBatch fromP =
        new AnalyzedBatch(
            FeatureBatch.newBuilder(batch.features()).setSourcePartition(p).build(),
            batch.stats(),
            batch.tokens());
    BatchSummary s = summarizer.summarize(new BatchView(fromP, timestamp, h.settings), Set.of(5));
    h.aggregatesTopic.pipeInput(SAE, s, timestamp);
    return batch.features().getSequenceId();
  }

  /** 10 tokens of which {@code firing} fire latent 5. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private AnalyzedBatch tenTokens(int partition, int firing) {
    Map<Integer, Float>[] rows = new Map[10];
    for (int i = 0; i < 10; i++) {
      rows[i] = i < firing ? Map.of(5, 1f) : Map.of(0, 1f);
    }
    return batch("p" + partition + "-s" + sequences++, null, rows);
  }

  private static LatentRateRule rate() {
    return new LatentRateRule("rate", AlertSeverity.WARNING, SAE, 5, 3.0, 0.0, 3, 0.5, minutes(1));
  }

  private static DriftRule drift() {
    return new DriftRule(
        "drift", AlertSeverity.CRITICAL, SAE, DriftRule.Metric.FVU, 0.5, 20, minutes(1));
  }

  private static long at(int window, int seconds) {
    return T0 + window * MINUTE + seconds * SECOND;
  }

  @Test
  void rateIsJudgedOverEveryPartitionOnceTheSlowestPassedTheWindow() {
    h.rules.replaceFileRules(List.of(rate()));
    for (int w = 0; w < 3; w++) {
      for (int p = 0; p < 3; p++) {
        fromPartition(p, tenTokens(p, 1), at(w, p + 1));
      }
    }
    String a = fromPartition(0, tenTokens(0, 1), at(3, 1));
    String burst = fromPartition(1, tenTokens(1, 10), at(3, 2));
    // Partitions 0 and 1 run ahead (a task catching up); partition 2 is still in window 2.
    fromPartition(0, tenTokens(0, 1), at(4, 1));
    fromPartition(1, tenTokens(1, 1), at(4, 40));
    fromPartition(0, tenTokens(0, 1), at(5, 40));
    String lagging = fromPartition(2, tenTokens(2, 1), at(3, 3));
    assertThat(h.readAlerts()).as("partition 2 has not passed window 3 + grace").isEmpty();

    fromPartition(2, tenTokens(2, 1), at(4, 35));
    List<FeatureAlert> alerts = h.readAlerts();
    assertThat(alerts).hasSize(1);
    FeatureAlert alert = alerts.get(0);
    // (1 + 10 + 1) / 30 over the whole SAE; partition 1 alone would have seen 10 / 10.
    assertThat(alert.getObservedValue()).isEqualTo(0.4, within(1e-12));
    assertThat(alert.getThreshold()).isEqualTo(0.3, within(1e-12));
    assertThat(alert.getAlertId()).isEqualTo("rate/sae-a/" + at(3, 0));
    assertThat(alert.getSequenceIds()).containsExactly(a, burst, lagging);
    assertThat(alert.getTokenContext()).as("no token text was sent").isNull();

    // Window 3 is judged: a summary of it now is late and ignored; no second alert.
    fromPartition(2, tenTokens(2, 10), at(3, 59));
    for (int w = 5; w < 8; w++) {
      for (int p = 0; p < 3; p++) {
        fromPartition(p, tenTokens(p, 1), at(w, 45 + p));
      }
    }
    assertThat(h.readAlerts()).isEmpty();
    assertThat(h.recent.recent(10))
        .extracting(FeatureAlert::getAlertId)
        .containsExactly(alert.getAlertId());
  }

  @Test
  void aPartitionSilentForTheIdleTimeoutStopsHoldingTheWindowsOpen() {
    h.rules.replaceFileRules(List.of(drift()));
    fromPartition(0, batch("a", null, 0.9f, 0.1f, tokens(10, 0, 1f)), at(0, 1));
    fromPartition(1, batch("b", null, 0.9f, 0.1f, tokens(10, 0, 1f)), at(0, 2));
    fromPartition(2, batch("c", null, 0.9f, 0.1f, tokens(10, 0, 1f)), at(0, 3));
    fromPartition(0, batch("d", null, 0.1f, 0.1f, tokens(10, 0, 1f)), at(2, 1));
    fromPartition(1, batch("e", null, 0.1f, 0.1f, tokens(10, 0, 1f)), at(2, 2));
    assertThat(h.readAlerts()).as("partition 2 is still in window 0").isEmpty();

    h.driver.advanceWallClockTime(h.settings.idlePartitionTimeout().plusMillis(1));
    fromPartition(0, batch("f", null, 0.1f, 0.1f, tokens(10, 0, 1f)), at(2, 3));
    assertThat(h.readAlerts())
        .singleElement()
        .satisfies(
            alert -> {
              assertThat(alert.getAlertId()).isEqualTo("drift/sae-a/" + at(0, 0));
              assertThat(alert.getSequenceIds()).containsExactly("a", "b", "c");
            });
  }

  @Test
  void driftIsJudgedOnTheTokenWeightedMeanOfAllPartitions() {
    h.rules.replaceFileRules(List.of(drift()));
    // Window 0: 0.75 and 0.25 over 10 tokens each: mean 0.5, not above; alone, partition 0 is.
    fromPartition(0, batch("a", null, 0.75f, 0.1f, tokens(10, 0, 1f)), at(0, 1));
    fromPartition(1, batch("b", null, 0.25f, 0.1f, tokens(10, 0, 1f)), at(0, 2));
    // Window 1: 0.9 and 0.6: mean 0.75.
    fromPartition(1, batch("c", null, 0.6f, 0.1f, tokens(10, 0, 1f)), at(1, 1));
    fromPartition(0, batch("d", null, 0.9f, 0.1f, tokens(10, 0, 1f)), at(1, 2));
    fromPartition(0, batch("e", null, 0.1f, 0.1f, tokens(10, 0, 1f)), at(2, 30));
    assertThat(h.readAlerts()).as("partition 1 is still in window 1").isEmpty();
    fromPartition(1, batch("f", null, 0.1f, 0.1f, tokens(10, 0, 1f)), at(2, 31));
    assertThat(h.readAlerts())
        .singleElement()
        .satisfies(
            alert -> {
              assertThat(alert.getAlertId()).isEqualTo("drift/sae-a/" + at(1, 0));
              assertThat(alert.getObservedValue()).isEqualTo(0.75, within(1e-6));
              assertThat(alert.getSequenceIds()).containsExactly("c", "d");
              assertThat(alert.getLatentIndex()).isNull();
            });
  }

  @Test
  void statisticsTakeLateSummariesAndRecountTheDenseLatentsOfAFrozenWindow() {
    MonitoringQueries q = new MonitoringQueries(h.settings, h.stores());
    // 4 tokens: latent 1 fires on 3, latent 2 on 1; both reach the default dense density 0.1.
    fromPartition(0, batch("a", null, Map.of(1, 1f, 2, 4f), Map.of(1, 3f), Map.of()), at(0, 0));
    fromPartition(1, batch("b", null, Map.of(1, 2f)), at(0, 1));
    assertThat(totals(T0).isFrozen()).isFalse();
    assertThat(q.windows(SAE, 10).windows().get(0).denseLatents())
        .as("counted at query time while open")
        .isEqualTo(2);

    fromPartition(0, batch("c", null, Map.of(3, 1f)), at(1, 30));
    fromPartition(1, batch("d", null, Map.of(3, 1f)), at(1, 30));
    assertThat(totals(T0).isFrozen()).isTrue();
    assertThat(totals(T0).denseLatents()).isEqualTo(2);

    // 36 late tokens of latent 4 only: latents 1 (3 of 40) and 2 (1 of 40) are no longer dense.
    @SuppressWarnings({"unchecked", "rawtypes"})
    Map<Integer, Float>[] late = new Map[36];
    java.util.Arrays.fill(late, Map.of(4, 9f));
    fromPartition(2, batch("late", null, late), at(0, 2));
    assertThat(LatentStats.read(h.stores(), SAE, T0, T0).tokens()).isEqualTo(40);
    assertThat(totals(T0).isFrozen()).as("thawed by the late summary").isFalse();
    assertThat(LatentStats.contexts(h.stores(), SAE, 4).entries().get(0).sequenceId())
        .isEqualTo("late");

    fromPartition(0, batch("e", null, Map.of(3, 1f)), at(2, 30));
    fromPartition(1, batch("f", null, Map.of(3, 1f)), at(2, 30));
    fromPartition(2, batch("g", null, Map.of(3, 1f)), at(2, 30));
    assertThat(totals(T0).isFrozen()).isTrue();
    assertThat(totals(T0).denseLatents()).as("latent 4 only").isEqualTo(1);
    assertThat(q.windows(SAE, 10).windows().get(0).firingLatents()).isEqualTo(3);
  }

  @Test
  void aSummaryThatCannotBeDecodedIsDeadLetteredAndCountsNowhere() {
    fromPartition(0, tenTokens(0, 3), at(0, 1));
    TestInputTopic<String, byte[]> raw =
        h.driver.createInputTopic(
            h.settings.aggregatesTopic(), new StringSerializer(), new ByteArraySerializer());
    byte[] corrupt = {2, 5, 's', 'a'};
    raw.pipeInput(SAE, corrupt, at(0, 2));
    fromPartition(1, tenTokens(1, 1), at(0, 3));

    TestOutputTopic<byte[], byte[]> deadLetters =
        h.driver.createOutputTopic(
            MonitorHarness.DEAD_LETTERS, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    List<TestRecord<byte[], byte[]>> letters = deadLetters.readRecordsToList();
    assertThat(letters).hasSize(1);
    assertThat(letters.get(0).value()).isEqualTo(corrupt);
    assertThat(
            new String(
                letters.get(0).headers().lastHeader(DeadLetterHeaders.REASON).value(),
                StandardCharsets.UTF_8))
        .isEqualTo(DeadLetterReason.UNDECODABLE.name());
    assertThat(LatentStats.read(h.stores(), SAE, T0, T0).tokens())
        .as("the two good summaries only")
        .isEqualTo(20);
  }

  private WindowTotals totals(long window) {
    return h.stores()
        .<WindowTotals>store(MonitoringTopology.WINDOW_TOTALS_STORE)
        .get(MonitorKeys.windowTotals(SAE, window));
  }
}
