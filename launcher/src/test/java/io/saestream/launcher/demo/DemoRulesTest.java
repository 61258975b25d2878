package io.saestream.launcher.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.schema.v1.AlertSeverity;
import io.saestream.streams.monitoring.rules.DriftRule;
import io.saestream.streams.monitoring.rules.LatentThresholdRule;
import io.saestream.streams.monitoring.rules.RuleParser;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DemoRulesTest {

  private static DemoRules.Shape shape(int burstMinTokens, int driftMinTokens) {
    return new DemoRules.Shape(
        "demo-topk", Duration.ofSeconds(10), burstMinTokens, Duration.ofSeconds(5), driftMinTokens);
  }

  @Test
  void rendersRulesTheStreamsAppParsesWithTheCalibratedLatentAndThresholds() {
    RuleCalibration previous = new RuleCalibration(1, 4, 5.0, 2.0, 0.9, 5.0);
    RuleCalibration current = new RuleCalibration(2, 17, 6.0, 2.0, 0.5, 4.5);
    Map<String, String> rendered = shape(8, 5000).render(current, previous);

    assertThat(rendered.keySet()).containsExactly(DemoRules.BURST_RULE, DemoRules.DRIFT_RULE);
    assertThat(
            RuleParser.parseRecord(
                DemoRules.BURST_RULE, rendered.getOrDefault(DemoRules.BURST_RULE, "")))
        .isEqualTo(
            new LatentThresholdRule(
                "burst-feature",
                AlertSeverity.WARNING,
                "demo-topk",
                17,
                current.burstMinActivation(),
                8,
                Duration.ofSeconds(10)));
    assertThat(
            RuleParser.parseRecord(
                DemoRules.DRIFT_RULE, rendered.getOrDefault(DemoRules.DRIFT_RULE, "")))
        .isEqualTo(
            new DriftRule(
                "drift-fvu",
                AlertSeverity.WARNING,
                "demo-topk",
                DriftRule.Metric.FVU,
                current.driftThreshold(previous),
                5000,
                Duration.ofSeconds(5)));
  }

  @Test
  void rejectsNonPositiveMinTokens() {
    assertThatThrownBy(() -> shape(0, 10))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("min tokens must be >= 1, were 0 and 10");
  }
}
