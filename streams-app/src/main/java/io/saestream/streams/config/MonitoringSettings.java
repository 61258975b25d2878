package io.saestream.streams.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Alerting and latent statistics (keys {@code monitoring.*}).
 *
 * @param enabled whether the topology evaluates rules and keeps statistics; the alerts and rules
 *     topics must then exist
 * @param alertsTopic output topic of FeatureAlert records
 * @param rulesTopic compacted input topic of rules (key rule id, JSON value, tombstone deletes)
 * @param rulesFile YAML rules file, reloaded on change, or null
 * @param rulesPollInterval how often the rules file is checked for changes
 * @param contextTokens tokens either side of the firing token in an alert's context, ≥ 0
 * @param redactTokens replace token text in alerts and statistics by {@value #REDACTED}
 * @param statsWindow tumbling window of the latent statistics
 * @param statsRetentionWindows windows of statistics kept, ≥ 1
 * @param topContexts top activating contexts kept per latent, ≥ 1
 * @param denseDensity density at or above which a latent counts as dense, in (0, 1]
 * @param recentAlerts alerts kept in memory for the alert feed, ≥ 1
 */
public record MonitoringSettings(
    boolean enabled,
    String alertsTopic,
    String rulesTopic,
    @Nullable Path rulesFile,
    Duration rulesPollInterval,
    int contextTokens,
    boolean redactTokens,
    Duration statsWindow,
    int statsRetentionWindows,
    int topContexts,
    double denseDensity,
    int recentAlerts) {

  /** Default {@link #alertsTopic()}. */
  public static final String DEFAULT_ALERTS_TOPIC = "sae.alerts.v1";

  /** Default {@link #rulesTopic()}. */
  public static final String DEFAULT_RULES_TOPIC = "sae.rules.v1";

  /** Text that replaces each token when {@link #redactTokens()} is on. */
  public static final String REDACTED = "[redacted]";

  /** Validates the settings. */
  public MonitoringSettings {
    Objects.requireNonNull(alertsTopic, "monitoring.alerts-topic");
    Objects.requireNonNull(rulesTopic, "monitoring.rules-topic");
    Objects.requireNonNull(rulesPollInterval, "monitoring.rules-poll-interval");
    Objects.requireNonNull(statsWindow, "monitoring.stats-window");
    if (alertsTopic.equals(rulesTopic)) {
      throw new IllegalArgumentException(
          "monitoring.alerts-topic and monitoring.rules-topic must differ, both were '"
              + alertsTopic
              + "'");
    }
    if (rulesPollInterval.toMillis() < 1) {
      throw new IllegalArgumentException(
          "monitoring.rules-poll-interval must be >= 1ms, was " + rulesPollInterval);
    }
    if (contextTokens < 0) {
      throw new IllegalArgumentException(
          "monitoring.context-tokens must be >= 0, was " + contextTokens);
    }
    if (statsWindow.toMillis() < 1) {
      throw new IllegalArgumentException(
          "monitoring.stats-window must be >= 1ms, was " + statsWindow);
    }
    if (statsRetentionWindows < 1) {
      throw new IllegalArgumentException(
          "monitoring.stats-retention-windows must be >= 1, was " + statsRetentionWindows);
    }
    if (topContexts < 1) {
      throw new IllegalArgumentException(
          "monitoring.top-contexts must be >= 1, was " + topContexts);
    }
    if (!(denseDensity > 0 && denseDensity <= 1)) {
      throw new IllegalArgumentException(
          "monitoring.dense-density must be in (0, 1], was " + denseDensity);
    }
    if (recentAlerts < 1) {
      throw new IllegalArgumentException(
          "monitoring.recent-alerts must be >= 1, was " + recentAlerts);
    }
  }

  /** Monitoring off, with the default topics and parameters. */
  public static MonitoringSettings defaults() {
    return new MonitoringSettings(
        false,
        DEFAULT_ALERTS_TOPIC,
        DEFAULT_RULES_TOPIC,
        null,
        Duration.ofSeconds(5),
        5,
        false,
        Duration.ofMinutes(1),
        60,
        5,
        0.1,
        200);
  }

  /** A copy with monitoring on or off. */
  public MonitoringSettings withEnabled(boolean on) {
    return new MonitoringSettings(
        on,
        alertsTopic,
        rulesTopic,
        rulesFile,
        rulesPollInterval,
        contextTokens,
        redactTokens,
        statsWindow,
        statsRetentionWindows,
        topContexts,
        denseDensity,
        recentAlerts);
  }

  /** A copy with another rules file (null for none). */
  public MonitoringSettings withRulesFile(@Nullable Path file) {
    return new MonitoringSettings(
        enabled,
        alertsTopic,
        rulesTopic,
        file,
        rulesPollInterval,
        contextTokens,
        redactTokens,
        statsWindow,
        statsRetentionWindows,
        topContexts,
        denseDensity,
        recentAlerts);
  }

  /** A copy with other statistics windows. */
  public MonitoringSettings withStatsWindow(Duration window) {
    return new MonitoringSettings(
        enabled,
        alertsTopic,
        rulesTopic,
        rulesFile,
        rulesPollInterval,
        contextTokens,
        redactTokens,
        window,
        statsRetentionWindows,
        topContexts,
        denseDensity,
        recentAlerts);
  }

  /** A copy with redaction on or off. */
  public MonitoringSettings withRedactTokens(boolean redact) {
    return new MonitoringSettings(
        enabled,
        alertsTopic,
        rulesTopic,
        rulesFile,
        rulesPollInterval,
        contextTokens,
        redact,
        statsWindow,
        statsRetentionWindows,
        topContexts,
        denseDensity,
        recentAlerts);
  }
}
