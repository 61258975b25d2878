package io.saestream.streams.monitoring.rules;

import io.saestream.schema.v1.AlertSeverity;
import java.time.Duration;

/**
 * Fires when a closed window's reconstruction error of the SAE exceeds {@code threshold}: the
 * token-weighted mean of the batches' FVU ({@link Metric#FVU}; each batch's FVU is about its own
 * mean, the window mean is not in the stats) or the mean per-token relative error ({@link
 * Metric#MEAN_RELATIVE_ERROR}). Windows with fewer than {@code minTokens} tokens are not judged.
 *
 * @param ruleId unique id
 * @param severity alert severity
 * @param saeId watched SAE
 * @param metric which error
 * @param threshold finite, > 0
 * @param minTokens tokens a window needs to be judged, ≥ 1
 * @param window tumbling window
 */
public record DriftRule(
    String ruleId,
    AlertSeverity severity,
    String saeId,
    Metric metric,
    double threshold,
    int minTokens,
    Duration window)
    implements AlertRule {

  /** The reconstruction error watched. */
  public enum Metric {
    /** Fraction of variance unexplained. */
    FVU,
    /** Mean of the per-token sse / ‖x‖². */
    MEAN_RELATIVE_ERROR
  }

  /** Validates the rule. */
  public DriftRule {
    AlertRule.checkCommon(ruleId, severity, saeId, window);
    if (metric == null) {
      throw new IllegalArgumentException("rule " + ruleId + ": metric is required");
    }
    if (!(threshold > 0) || !Double.isFinite(threshold)) {
      throw new IllegalArgumentException(
          "rule " + ruleId + ": threshold must be > 0, was " + threshold);
    }
    if (minTokens < 1) {
      throw new IllegalArgumentException(
          "rule " + ruleId + ": min-tokens must be >= 1, was " + minTokens);
    }
  }

  @Override
  public boolean perSequence() {
    return false;
  }
}
