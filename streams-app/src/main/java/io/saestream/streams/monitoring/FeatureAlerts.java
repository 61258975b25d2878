package io.saestream.streams.monitoring;

import io.saestream.schema.v1.FeatureAlert;
import io.saestream.schema.v1.TokenContext;
import io.saestream.streams.monitoring.rules.AlertRule;
import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Builds the FeatureAlert records of both monitor nodes, with deterministic ids so that a replayed
 * firing has the same id: {@code rule/sae/sequence/window_start} for per-sequence rules, {@code
 * rule/sae/window_start} for per-SAE rules (one alert per SAE and window, whichever partitions the
 * traffic came through). Stateless.
 */
final class FeatureAlerts {

  private FeatureAlerts() {}

  /** The id of a per-sequence rule's alert. */
  static String sequenceAlertId(AlertRule rule, String sequenceId, long windowStart) {
    return rule.ruleId() + "/" + rule.saeId() + "/" + sequenceId + "/" + windowStart;
  }

  /** The id of a per-SAE rule's alert. */
  static String saeAlertId(AlertRule rule, long windowStart) {
    return rule.ruleId() + "/" + rule.saeId() + "/" + windowStart;
  }

  @SuppressWarnings("TooManyParameters")
  static FeatureAlert build(
      AlertRule rule,
      String alertId,
      long saeVersion,
      String modelId,
      String hookName,
      List<String> sequences,
      long windowStart,
      @Nullable Integer latent,
      double observed,
      double threshold,
      @Nullable TokenContext tokenContext,
      Instant createdAt) {
    FeatureAlert.Builder builder =
        FeatureAlert.newBuilder()
            .setAlertId(alertId)
            .setRuleId(rule.ruleId())
            .setSeverity(rule.severity())
            .setSaeId(rule.saeId())
            .setSaeVersion(saeVersion)
            .setModelId(modelId)
            .setHookName(hookName)
            .setSequenceIds(List.copyOf(sequences))
            .setWindowStart(Instant.ofEpochMilli(windowStart))
            .setWindowEnd(Instant.ofEpochMilli(windowStart + rule.window().toMillis()))
            .setObservedValue(observed)
            .setThreshold(threshold)
            .setCreatedAt(createdAt);
    // Optional union fields default to null in the builder; only set them when present.
    if (latent != null) {
      builder.setLatentIndex(latent);
    }
    if (tokenContext != null) {
      builder.setTokenContext(tokenContext);
    }
    return builder.build();
  }

  static TokenContext toTokenContext(ContextEntry e) {
    return TokenContext.newBuilder()
        .setSequenceId(e.sequenceId())
        .setPosition(e.position())
        .setTokens(e.tokens())
        .setFocusIndex(Math.max(0, e.focusIndex()))
        .build();
  }
}
