package io.saestream.streams.monitoring.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.schema.v1.AlertSeverity;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RuleParserTest {

  @Test
  void parsesEveryRuleTypeWithDefaults() {
    List<AlertRule> rules =
        RuleParser.parseFile(
            """
            rules:
              - id: t
                type: latent-threshold
                sae-id: s
                latent: 3
                min-activation: 2.5
                min-tokens: 2
                window: 30s
                severity: critical
              - id: r
                type: latent-rate
                sae-id: s
                latent: 4
                factor: 3
              - id: p
                type: probe
                sae-id: s
                weights: {1: 0.5, 7: -1}
                threshold: 1
                mode: sequence-mean
              - id: d
                type: drift
                sae-id: s
                metric: mean-relative-error
                threshold: 0.4
            """);
    assertThat(rules)
        .containsExactly(
            new LatentThresholdRule(
                "t", AlertSeverity.CRITICAL, "s", 3, 2.5, 2, Duration.ofSeconds(30)),
            new LatentRateRule(
                "r", AlertSeverity.WARNING, "s", 4, 3, 0, 3, 0.3, RuleParser.DEFAULT_WINDOW),
            new ProbeRule(
                "p",
                AlertSeverity.WARNING,
                "s",
                Map.of(1, 0.5, 7, -1.0),
                0,
                1,
                ProbeRule.Mode.SEQUENCE_MEAN,
                1,
                RuleParser.DEFAULT_WINDOW),
            new DriftRule(
                "d",
                AlertSeverity.WARNING,
                "s",
                DriftRule.Metric.MEAN_RELATIVE_ERROR,
                0.4,
                1,
                RuleParser.DEFAULT_WINDOW));
  }

  @Test
  void emptyFileMeansNoRules() {
    assertThat(RuleParser.parseFile("")).isEmpty();
    assertThat(RuleParser.parseFile("rules:")).isEmpty();
  }

  @Test
  void recordKeyIsTheIdAndMustMatchAnIdInTheValue() {
    assertThat(
            RuleParser.parseRecord("k", "{\"type\":\"drift\",\"sae-id\":\"s\",\"threshold\":1}")
                .ruleId())
        .isEqualTo("k");
    assertThatThrownBy(
            () ->
                RuleParser.parseRecord(
                    "k", "{\"id\":\"other\",\"type\":\"drift\",\"sae-id\":\"s\",\"threshold\":1}"))
        .hasMessageContaining("differs from the record key 'k'");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = ';',
      value = {
        "{type: nope, sae-id: s}; type must be one of",
        "{type: drift, sae-id: s, threshold: 1, colour: red}; unknown key 'colour'",
        "{type: latent-threshold, sae-id: s, min-activation: 1}; latent is required",
        "{type: latent-threshold, sae-id: s, latent: -1, min-activation: 1}; latent must be >= 0",
        "{type: latent-threshold, sae-id: s, latent: x, min-activation: 1}; latent must be an integer",
        "{type: drift, sae-id: s, threshold: 1, severity: loud}; severity must be INFO, WARNING or CRITICAL",
        "{type: drift, sae-id: s, threshold: 0}; threshold must be > 0",
        "{type: drift, sae-id: s, threshold: 1, metric: mse}; metric must be fvu or mean-relative-error",
        "{type: drift, sae-id: s, threshold: 1, window: soon}; window must be a duration",
        "{type: drift, sae-id: s, threshold: 1, window: 0s}; window must be >= 1ms",
        "{type: latent-rate, sae-id: s, latent: 1, factor: 1}; factor must be > 1",
        "{type: latent-rate, sae-id: s, latent: 1, factor: 2, ewma-alpha: 0}; ewma-alpha must be in (0, 1]",
        "{type: latent-rate, sae-id: s, latent: 1, factor: 2, warmup-windows: 0}; warmup-windows must be >= 1",
        "{type: probe, sae-id: s, threshold: 1}; weights must be a mapping",
        "{type: probe, sae-id: s, threshold: 1, weights: {}}; weights must not be empty",
        "{type: probe, sae-id: s, threshold: 1, weights: {a: 1}}; weights keys must be latent indices",
        "{type: probe, sae-id: s, threshold: 1, weights: {1: 1}, mode: max}; mode must be token or sequence-mean",
        "{type: drift, threshold: 1}; sae-id is required",
        "[1, 2]; must be a mapping",
        "{type: drift, sae-id: s, threshold: 1, id: 'a|b'}; must not contain",
        "{oops; malformed rules"
      })
  void rejectsInvalidRulesNamingTheKey(String value, String message) {
    String id = value.contains("'a|b'") ? "a|b" : "rule-1";
    assertThatThrownBy(() -> RuleParser.parseRecord(id, value))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }

  @Test
  void rejectsDuplicateIdsAndUnknownTopLevelKeysInFiles() {
    assertThatThrownBy(
            () ->
                RuleParser.parseFile(
                    """
                    rules:
                      - {id: a, type: drift, sae-id: s, threshold: 1}
                      - {id: a, type: drift, sae-id: s, threshold: 2}
                    """))
        .hasMessageContaining("rules[1]: duplicate id 'a'");
    assertThatThrownBy(() -> RuleParser.parseFile("rulez: []"))
        .hasMessageContaining("unknown key 'rulez'");
    assertThatThrownBy(
            () -> RuleParser.parseFile("rules:\n  - {type: drift, sae-id: s, threshold: 1}"))
        .hasMessageContaining("rules[0]: id is required");
  }
}
