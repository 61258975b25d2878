package io.saestream.streams.monitoring.rules;

import io.saestream.schema.v1.AlertSeverity;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * A linear probe over latents: {@code score = bias + Σ weights[j] · f_j}. In {@link Mode#TOKEN}
 * mode it fires when one token's score reaches {@code threshold}; in {@link Mode#SEQUENCE_MEAN}
 * when the mean score over the tokens of one sequence seen so far in the window does (after at
 * least {@code minTokens} tokens). At most once per (rule, sequence, window).
 *
 * @param ruleId unique id
 * @param severity alert severity
 * @param saeId watched SAE
 * @param weights latent index → weight, at least one, all finite
 * @param bias finite
 * @param threshold finite
 * @param mode per token or averaged over the sequence
 * @param minTokens tokens before a sequence mean counts, ≥ 1
 * @param window tumbling window
 */
public record ProbeRule(
    String ruleId,
    AlertSeverity severity,
    String saeId,
    Map<Integer, Double> weights,
    double bias,
    double threshold,
    Mode mode,
    int minTokens,
    Duration window)
    implements AlertRule {

  /** How token scores are turned into a firing. */
  public enum Mode {
    /** Any single token. */
    TOKEN,
    /** The mean over the sequence's tokens in the window. */
    SEQUENCE_MEAN
  }

  /** Validates the rule and copies the weights (sorted by latent). */
  public ProbeRule {
    AlertRule.checkCommon(ruleId, severity, saeId, window);
    if (weights == null || weights.isEmpty()) {
      throw new IllegalArgumentException("rule " + ruleId + ": weights must not be empty");
    }
    for (Map.Entry<Integer, Double> e : weights.entrySet()) {
      if (e.getKey() == null || e.getKey() < 0) {
        throw new IllegalArgumentException(
            "rule " + ruleId + ": weights keys must be latent indices >= 0, was " + e.getKey());
      }
      AlertRule.checkFinite(ruleId, "weights[" + e.getKey() + "]", e.getValue());
    }
    weights = Map.copyOf(new TreeMap<>(weights));
    AlertRule.checkFinite(ruleId, "bias", bias);
    AlertRule.checkFinite(ruleId, "threshold", threshold);
    if (mode == null) {
      throw new IllegalArgumentException("rule " + ruleId + ": mode is required");
    }
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
