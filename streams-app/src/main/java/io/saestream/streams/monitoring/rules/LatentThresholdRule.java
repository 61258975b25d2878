package io.saestream.streams.monitoring.rules;

import io.saestream.schema.v1.AlertSeverity;
import java.time.Duration;

/**
 * Fires when latent {@code latent} reaches {@code minActivation} on at least {@code minTokens}
 * tokens of one sequence within one window; at most once per (rule, sequence, window).
 *
 * @param ruleId unique id
 * @param severity alert severity
 * @param saeId watched SAE
 * @param latent latent index, ≥ 0
 * @param minActivation activation a token must reach, finite
 * @param minTokens tokens that must reach it, ≥ 1
 * @param window tumbling window
 */
public record LatentThresholdRule(
    String ruleId,
    AlertSeverity severity,
    String saeId,
    int latent,
    double minActivation,
    int minTokens,
    Duration window)
    implements AlertRule {

  /** Validates the rule. */
  public LatentThresholdRule {
    AlertRule.checkCommon(ruleId, severity, saeId, window);
    if (latent < 0) {
      throw new IllegalArgumentException("rule " + ruleId + ": latent must be >= 0, was " + latent);
    }
    AlertRule.checkFinite(ruleId, "min-activation", minActivation);
    if (minTokens < 1) {
      throw new IllegalArgumentException(
          "rule " + ruleId + ": min-tokens must be >= 1, was " + minTokens);
    }
  }

  @Override
  public boolean perSequence() {
    return true;
  }
}
