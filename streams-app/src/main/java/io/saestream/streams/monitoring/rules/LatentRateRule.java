package io.saestream.streams.monitoring.rules;

import io.saestream.schema.v1.AlertSeverity;
import java.time.Duration;

/**
 * Fires when the firing rate of {@code latent} (firings / tokens of the SAE) in a closed window
 * exceeds {@code factor} × its baseline, the EWMA of the rates of earlier windows; silent until
 * {@code warmupWindows} windows have formed the baseline. The rate must also exceed {@code
 * minRate}, so that a latent that has never fired does not alert on its first firing.
 *
 * @param ruleId unique id
 * @param severity alert severity
 * @param saeId watched SAE
 * @param latent latent index, ≥ 0
 * @param factor multiple of the baseline, > 1
 * @param minRate absolute floor of an alerting rate, in [0, 1)
 * @param warmupWindows windows in the baseline before alerting, ≥ 1
 * @param ewmaAlpha weight of the newest window in the baseline, in (0, 1]
 * @param window tumbling window
 */
public record LatentRateRule(
    String ruleId,
    AlertSeverity severity,
    String saeId,
    int latent,
    double factor,
    double minRate,
    int warmupWindows,
    double ewmaAlpha,
    Duration window)
    implements AlertRule {

  /** Validates the rule. */
  public LatentRateRule {
    AlertRule.checkCommon(ruleId, severity, saeId, window);
    if (latent < 0) {
      throw new IllegalArgumentException("rule " + ruleId + ": latent must be >= 0, was " + latent);
    }
    if (!(factor > 1) || !Double.isFinite(factor)) {
      throw new IllegalArgumentException("rule " + ruleId + ": factor must be > 1, was " + factor);
    }
    if (!(minRate >= 0 && minRate < 1)) {
      throw new IllegalArgumentException(
          "rule " + ruleId + ": min-rate must be in [0, 1), was " + minRate);
    }
    if (warmupWindows < 1) {
      throw new IllegalArgumentException(
          "rule " + ruleId + ": warmup-windows must be >= 1, was " + warmupWindows);
    }
    if (!(ewmaAlpha > 0 && ewmaAlpha <= 1)) {
      throw new IllegalArgumentException(
          "rule " + ruleId + ": ewma-alpha must be in (0, 1], was " + ewmaAlpha);
    }
  }

  @Override
  public boolean perSequence() {
    return false;
  }
}
