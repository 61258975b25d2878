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
import io.saestream.streams.config.MonitoringSettings;
import io.saestream.streams.monitoring.rules.DriftRule;
import io.saestream.streams.monitoring.rules.LatentRateRule;
import io.saestream.streams.monitoring.rules.LatentThresholdRule;
import io.saestream.streams.monitoring.rules.ProbeRule;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each rule type in the driver: fires, stays silent, respects window bounds, deduplicates. */
class AlertRulesTopologyTest {

  private static final long MINUTE = 60_000;
  private static final List<String> TEXT =
      List.of("The", " secret", " code", " is", " 42", ".", " Bye");

  @TempDir Path stateDir;
  private MonitorHarness h;

  @BeforeEach
  void open() {
    h = new MonitorHarness(stateDir);
  }

  @AfterEach
  void close() {
    h.close();
  }

  private static LatentThresholdRule threshold() {
    return new LatentThresholdRule("burst", AlertSeverity.CRITICAL, SAE, 3, 2.0, 3, minutes(1));
  }

  @Test
  void thresholdFiresOnceThirdTokenReachesActivationWithContextAroundIt() {
    h.rules.replaceFileRules(List.of(threshold()));
    h.send(batch("s1", null, tokens(2, 3, 2.5f)), T0 + 1000);
    assertThat(h.readAlerts()).isEmpty();
    h.send(
        batch(
            "s1",
            TEXT,
            Map.of(),
            Map.of(),
            Map.of(),
            Map.of(3, 3.0f),
            Map.of(),
            Map.of(),
            Map.of()),
        T0 + 2000);
    List<FeatureAlert> alerts = h.readAlerts();
    assertThat(alerts).hasSize(1);
    FeatureAlert a = alerts.get(0);
    assertThat(a.getRuleId()).isEqualTo("burst");
    assertThat(a.getSeverity()).isEqualTo(AlertSeverity.CRITICAL);
    assertThat(a.getLatentIndex()).isEqualTo(3);
    assertThat(a.getSequenceIds()).containsExactly("s1");
    assertThat(a.getWindowStart().toEpochMilli()).isEqualTo(T0);
    assertThat(a.getWindowEnd().toEpochMilli()).isEqualTo(T0 + MINUTE);
    assertThat(a.getObservedValue()).isEqualTo(3.0, within(1e-6));
    assertThat(a.getThreshold()).isEqualTo(2.0);
    assertThat(a.getSaeVersion()).isEqualTo(7);
    assertThat(a.getAlertId()).isEqualTo("burst/sae-a/s1/" + T0);
    assertThat(a.getTokenContext()).isNotNull();
    assertThat(a.getTokenContext().getPosition()).isEqualTo(103);
    // 5 tokens either side by default, cut at the batch's start: " is" is token 3.
    assertThat(a.getTokenContext().getTokens()).containsExactlyElementsOf(TEXT);
    assertThat(a.getTokenContext().getFocusIndex()).isEqualTo(3);
    assertThat(h.recent.recent(10))
        .extracting(FeatureAlert::getAlertId)
        .containsExactly(a.getAlertId());
  }

  @Test
  void thresholdStaysSilentBelowTheTokenCountOrTheActivation() {
    h.rules.replaceFileRules(List.of(threshold()));
    h.send(batch("s1", null, tokens(2, 3, 2.5f)), T0 + 1000);
    h.send(batch("s1", null, tokens(5, 3, 1.99f)), T0 + 2000);
    h.send(batch("s1", null, tokens(5, 4, 9f)), T0 + 3000);
    h.send(batch("s2", null, tokens(1, 3, 5f)), T0 + 4000);
    assertThat(h.readAlerts()).isEmpty();
  }

  @Test
  void thresholdCountsEachWindowSeparately() {
    h.rules.replaceFileRules(List.of(threshold()));
    h.send(batch("s1", null, tokens(2, 3, 2.5f)), T0 + MINUTE - 1);
    h.send(batch("s1", null, tokens(2, 3, 2.5f)), T0 + MINUTE);
    assertThat(h.readAlerts()).isEmpty();
    h.send(batch("s1", null, tokens(1, 3, 2.5f)), T0 + 2 * MINUTE - 1);
    assertThat(h.readAlerts())
        .singleElement()
        .satisfies(a -> assertThat(a.getWindowStart().toEpochMilli()).isEqualTo(T0 + MINUTE));
  }

  @Test
  void thresholdAlertsOncePerSequenceAndWindow() {
    h.rules.replaceFileRules(List.of(threshold()));
    h.send(batch("s1", null, tokens(3, 3, 2.5f)), T0);
    h.send(batch("s1", null, tokens(3, 3, 2.5f)), T0 + 1);
    h.send(batch("s2", null, tokens(3, 3, 2.5f)), T0 + 2);
    h.send(batch("s1", null, tokens(3, 3, 2.5f)), T0 + MINUTE);
    assertThat(h.readAlerts())
        .extracting(FeatureAlert::getAlertId)
        .containsExactly(
            "burst/sae-a/s1/" + T0, "burst/sae-a/s2/" + T0, "burst/sae-a/s1/" + (T0 + MINUTE));
  }

  @Test
  void lateRecordOfAnExpiredWindowDoesNotAlertAgain() {
    h.rules.replaceFileRules(List.of(threshold()));
    h.send(batch("s1", null, tokens(3, 3, 2.5f)), T0);
    h.send(batch("s9", null, tokens(1, 0, 1f)), T0 + 3 * MINUTE);
    h.send(batch("s1", null, tokens(3, 3, 2.5f)), T0 + 10);
    assertThat(h.readAlerts()).hasSize(1);
  }

  @Test
  void redactionReplacesTokenText() {
    h.close();
    h =
        new MonitorHarness(
            stateDir, MonitoringSettings.defaults().withEnabled(true).withRedactTokens(true));
    h.rules.replaceFileRules(
        List.of(new LatentThresholdRule("one", AlertSeverity.INFO, SAE, 3, 1.0, 1, minutes(1))));
    h.send(batch("s1", List.of("a", "b"), Map.of(), Map.of(3, 2f)), T0);
    FeatureAlert a = h.readAlerts().get(0);
    assertThat(a.getTokenContext().getTokens())
        .containsExactly(MonitoringSettings.REDACTED, MonitoringSettings.REDACTED);
    assertThat(a.getTokenContext().getFocusIndex()).isEqualTo(1);
  }

  @Test
  void tokenProbeFiresOnTheFirstTokenScoringAboveThreshold() {
    h.rules.replaceFileRules(
        List.of(
            new ProbeRule(
                "probe",
                AlertSeverity.WARNING,
                SAE,
                Map.of(1, 1.0, 2, -0.5),
                0.5,
                2.0,
                ProbeRule.Mode.TOKEN,
                1,
                minutes(1))));
    // scores: 0.5+1-1 = 0.5; 0.5+1.4 = 1.9 (just below); 0.5+2 = 2.5
    h.send(batch("s1", null, Map.of(1, 1f, 2, 2f), Map.of(1, 1.4f)), T0);
    assertThat(h.readAlerts()).isEmpty();
    h.send(batch("s1", TEXT.subList(0, 2), Map.of(), Map.of(1, 2f)), T0 + 1);
    FeatureAlert a = h.readAlerts().get(0);
    assertThat(a.getObservedValue()).isEqualTo(2.5, within(1e-6));
    assertThat(a.getLatentIndex()).isNull();
    assertThat(a.getTokenContext().getFocusIndex()).isEqualTo(1);
    h.send(batch("s1", null, Map.of(1, 5f)), T0 + 2);
    assertThat(h.readAlerts()).isEmpty();
  }

  @Test
  void sequenceMeanProbeFiresOnlyWhenTheMeanCrossesAfterMinTokens() {
    h.rules.replaceFileRules(
        List.of(
            new ProbeRule(
                "mean",
                AlertSeverity.WARNING,
                SAE,
                Map.of(1, 1.0),
                0,
                1.0,
                ProbeRule.Mode.SEQUENCE_MEAN,
                4,
                minutes(1))));
    h.send(batch("s1", null, tokens(3, 1, 5f)), T0);
    assertThat(h.readAlerts()).as("fewer than min-tokens").isEmpty();
    h.send(
        batch(
            "s1", null, Map.of(), Map.of(), Map.of(), Map.of(), Map.of(), Map.of(), Map.of(),
            Map.of(), Map.of(), Map.of(), Map.of(), Map.of(), Map.of()),
        T0 + 1);
    assertThat(h.readAlerts()).as("mean 15/16 < 1").isEmpty();
    h.send(batch("s1", null, tokens(1, 1, 2f)), T0 + 2);
    assertThat(h.readAlerts())
        .singleElement()
        .satisfies(a -> assertThat(a.getObservedValue()).isEqualTo(17.0 / 17, within(1e-9)));
  }

  private static LatentRateRule rate() {
    return new LatentRateRule("rate", AlertSeverity.WARNING, SAE, 5, 3.0, 0.0, 3, 0.5, minutes(1));
  }

  /** A window of 10 tokens of which {@code firing} fire latent 5, spread over sequences. */
  private void rateWindow(long window, int firing) {
    for (int i = 0; i < 10; i++) {
      var row = i < firing ? tokens(1, 5, 1f) : tokens(1, 0, 1f);
      h.send(batch("seq-" + window + "-" + i, null, row), T0 + window * MINUTE + i);
    }
  }

  @Test
  void rateFiresWhenTheBurstWindowClosesAfterWarmUp() {
    h.rules.replaceFileRules(List.of(rate()));
    for (int w = 0; w < 3; w++) {
      rateWindow(w, 1);
    }
    rateWindow(3, 4);
    assertThat(h.readAlerts()).as("burst window still open").isEmpty();
    rateWindow(4, 1);
    FeatureAlert a = h.readAlerts().get(0);
    assertThat(a.getWindowStart().toEpochMilli()).isEqualTo(T0 + 3 * MINUTE);
    assertThat(a.getObservedValue()).isEqualTo(0.4, within(1e-12));
    assertThat(a.getThreshold()).isEqualTo(3 * 0.1, within(1e-12));
    assertThat(a.getSequenceIds()).containsExactly("seq-3-0", "seq-3-1", "seq-3-2", "seq-3-3");
    assertThat(a.getAlertId()).isEqualTo("rate/sae-a/" + (T0 + 3 * MINUTE));
    rateWindow(5, 1);
    assertThat(h.readAlerts()).isEmpty();
  }

  @Test
  void rateStaysSilentDuringWarmUpAndAtTheBaseline() {
    h.rules.replaceFileRules(List.of(rate()));
    rateWindow(0, 1);
    rateWindow(1, 8);
    for (int w = 2; w < 8; w++) {
      rateWindow(w, 2);
    }
    // Window 1's burst closed during warm-up (1 window of baseline); windows 2..6 stay ≤ 3×.
    assertThat(h.readAlerts()).isEmpty();
  }

  @Test
  void rateIgnoresLateRecordsOfClosedWindows() {
    h.rules.replaceFileRules(List.of(rate()));
    for (int w = 0; w < 4; w++) {
      rateWindow(w, 1);
    }
    h.send(batch("late", null, tokens(10, 5, 1f)), T0 + 2 * MINUTE);
    rateWindow(4, 1);
    assertThat(h.readAlerts()).isEmpty();
  }

  @Test
  void driftFiresForAWindowWhoseFvuExceedsTheThreshold() {
    h.rules.replaceFileRules(
        List.of(
            new DriftRule(
                "drift", AlertSeverity.CRITICAL, SAE, DriftRule.Metric.FVU, 0.5, 4, minutes(1))));
    h.send(batch("a", null, 0.2f, 0.1f, tokens(4, 0, 1f)), T0);
    h.send(batch("b", null, 0.9f, 0.1f, tokens(4, 0, 1f)), T0 + MINUTE);
    h.send(batch("c", null, 0.6f, 0.1f, tokens(12, 0, 1f)), T0 + MINUTE + 1);
    assertThat(h.readAlerts()).as("window 0 at 0.2, window 1 open").isEmpty();
    h.send(batch("d", null, 0.9f, 0.1f, tokens(2, 0, 1f)), T0 + 2 * MINUTE);
    FeatureAlert a = h.readAlerts().get(0);
    // token-weighted: (0.9·4 + 0.6·12) / 16 = 0.675
    assertThat(a.getObservedValue()).isEqualTo(0.675, within(1e-6));
    assertThat(a.getSequenceIds()).containsExactly("b", "c");
    assertThat(a.getLatentIndex()).isNull();
    assertThat(a.getTokenContext()).isNull();
    h.send(batch("e", null, 0.1f, 0.1f, tokens(2, 0, 1f)), T0 + 3 * MINUTE);
    assertThat(h.readAlerts()).as("window 2 has 2 < min-tokens").isEmpty();
  }

  @Test
  void driftOnMeanRelativeErrorStaysSilentBelowThreshold() {
    h.rules.replaceFileRules(
        List.of(
            new DriftRule(
                "mre",
                AlertSeverity.INFO,
                SAE,
                DriftRule.Metric.MEAN_RELATIVE_ERROR,
                0.3,
                1,
                minutes(1))));
    h.send(batch("a", null, 0.9f, 0.29f, tokens(4, 0, 1f)), T0);
    h.send(batch("b", null, 0.9f, 0.31f, tokens(4, 0, 1f)), T0 + MINUTE);
    h.send(batch("c", null, 0.9f, 0.1f, tokens(4, 0, 1f)), T0 + 2 * MINUTE);
    assertThat(h.readAlerts())
        .singleElement()
        .satisfies(a -> assertThat(a.getWindowStart().toEpochMilli()).isEqualTo(T0 + MINUTE));
  }

  @Test
  void rulesTopicAddsReplacesAndDeletesRules() {
    String json =
        "{\"type\":\"latent-threshold\",\"sae-id\":\"sae-a\",\"latent\":3,"
            + "\"min-activation\":1.0,\"min-tokens\":1,\"severity\":\"critical\"}";
    h.rulesTopic.pipeInput("t1", json);
    h.send(batch("s1", null, tokens(1, 3, 2f)), T0);
    assertThat(h.readAlerts())
        .singleElement()
        .satisfies(a -> assertThat(a.getSeverity()).isEqualTo(AlertSeverity.CRITICAL));
    h.rulesTopic.pipeInput("t1", json.replace("1.0", "5.0"));
    h.send(batch("s2", null, tokens(1, 3, 2f)), T0 + 1);
    assertThat(h.readAlerts()).as("replaced by a stricter rule").isEmpty();
    h.rulesTopic.pipeInput("t1", "{not json");
    h.send(batch("s3", null, tokens(1, 3, 6f)), T0 + 2);
    assertThat(h.readAlerts())
        .as("invalid update ignored, stricter rule still in force")
        .hasSize(1);
    h.rulesTopic.pipeInput("t1", (String) null);
    h.send(batch("s4", null, tokens(1, 3, 6f)), T0 + 3);
    assertThat(h.readAlerts()).isEmpty();
    assertThat(h.rules.current().size()).isZero();
  }

  @Test
  void topicRuleOverridesFileRuleOfTheSameIdUntilDeleted() {
    h.rules.replaceFileRules(List.of(threshold()));
    h.rulesTopic.pipeInput("burst", "{\"type\":\"drift\",\"sae-id\":\"sae-a\",\"threshold\":0.5}");
    assertThat(h.rules.current().get("burst")).isInstanceOf(DriftRule.class);
    h.rulesTopic.pipeInput("burst", (String) null);
    assertThat(h.rules.current().get("burst")).isEqualTo(threshold());
  }
}
