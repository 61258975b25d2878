package io.saestream.streams.monitoring.rules;

import io.saestream.schema.v1.AlertSeverity;
import java.time.Duration;

/**
 * An alert rule over one SAE's outputs, evaluated in tumbling event-time windows of {@link
 * #window()}. Implementations are immutable records validated in their constructors.
 */
public sealed interface AlertRule
    permits LatentThresholdRule, LatentRateRule, ProbeRule, DriftRule {

  /** Unique id of the rule (the key on the rules topic). */
  String ruleId();

  /** Severity written on the alerts of this rule. */
  AlertSeverity severity();

  /** The SAE whose outputs the rule watches. */
  String saeId();

  /** Length of the tumbling window. */
  Duration window();

  /** Whether the rule is evaluated per sequence (else over all traffic of the SAE). */
  boolean perSequence();

  /** The rule's type as rules files name it: latent-threshold, latent-rate, probe or drift. */
  default String typeName() {
    if (this instanceof LatentThresholdRule) {
      return "latent-threshold";
    } else if (this instanceof LatentRateRule) {
      return "latent-rate";
    } else if (this instanceof ProbeRule) {
      return "probe";
    }
    return "drift";
  }

  /** Checks the fields every rule shares; messages name the rule and key. */
  static void checkCommon(String ruleId, AlertSeverity severity, String saeId, Duration window) {
    if (ruleId == null || ruleId.isBlank()) {
      throw new IllegalArgumentException("rule id must not be blank");
    }
    if (ruleId.contains("|") || ruleId.contains("/")) {
      throw new IllegalArgumentException(
          "rule id must not contain '|' or '/', was '" + ruleId + "'");
    }
    if (severity == null) {
      throw new IllegalArgumentException("rule " + ruleId + ": severity is required");
    }
    if (saeId == null || saeId.isBlank()) {
      throw new IllegalArgumentException("rule " + ruleId + ": sae-id is required");
    }
    if (window == null || window.isNegative() || window.toMillis() < 1) {
      throw new IllegalArgumentException(
          "rule " + ruleId + ": window must be >= 1ms, was " + window);
    }
  }

  /** Throws unless {@code value} is finite. */
  static void checkFinite(String ruleId, String key, double value) {
    if (!Double.isFinite(value)) {
      throw new IllegalArgumentException(
          "rule " + ruleId + ": " + key + " must be finite, was " + value);
    }
  }
}
