package io.saestream.streams.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Alerting and latent statistics (keys {@code monitoring.*}).
 *
 * @param enabled whether the topology evaluates rules and keeps statistics; the alerts and rules
 *     topics must then exist (the aggregates topic is created by the app)
 * @param alertsTopic output topic of FeatureAlert records
 * @param rulesTopic compacted input topic of rules (key rule id, JSON value, tombstone deletes)
 * @param aggregatesTopic the app's own repartition topic: one summary per analyzed batch, keyed by
 *     sae_id, so that one task owns everything about one SAE; created at start when missing
 * @param aggregatesPartitions partitions of a created aggregates topic, 0 for as many as the
 *     activations topic has
 * @param windowGrace how long after its end a window of the per-SAE rules still takes late
 *     summaries: a rate or drift window is judged, and a statistics window frozen (its dense
 *     latents counted), once the SAE's watermark passes end + grace
 * @param idlePartitionTimeout the SAE's watermark is the smallest event time reached by the input
 *     partitions that sent it a summary within this much wall-clock time, so that a lagging
 *     partition holds windows open while an idle one does not
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
    String aggregatesTopic,
    int aggregatesPartitions,
    Duration windowGrace,
    Duration idlePartitionTimeout,
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

  /** Default {@link #aggregatesTopic()}. */
  public static final String DEFAULT_AGGREGATES_TOPIC = "sae.monitor.aggregates.v1";

  /** Default {@link #windowGrace()}. */
  public static final Duration DEFAULT_WINDOW_GRACE = Duration.ofSeconds(10);

  /** Default {@link #idlePartitionTimeout()}. */
  public static final Duration DEFAULT_IDLE_PARTITION_TIMEOUT = Duration.ofSeconds(30);

  /** Text that replaces each token when {@link #redactTokens()} is on. */
  public static final String REDACTED = "[redacted]";

  // Kafka's own rule, repeated so that the message can name our key (as TopicNames does).
  private static final Pattern LEGAL_TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

  /** Validates the settings. */
  public MonitoringSettings {
    Objects.requireNonNull(alertsTopic, "monitoring.alerts-topic");
    Objects.requireNonNull(rulesTopic, "monitoring.rules-topic");
    Objects.requireNonNull(aggregatesTopic, "monitoring.aggregates-topic");
    Objects.requireNonNull(windowGrace, "monitoring.window-grace");
    Objects.requireNonNull(idlePartitionTimeout, "monitoring.idle-partition-timeout");
    Objects.requireNonNull(rulesPollInterval, "monitoring.rules-poll-interval");
    Objects.requireNonNull(statsWindow, "monitoring.stats-window");
    checkTopic("monitoring.alerts-topic", alertsTopic);
    checkTopic("monitoring.rules-topic", rulesTopic);
    checkTopic("monitoring.aggregates-topic", aggregatesTopic);
    if (alertsTopic.equals(rulesTopic)
        || aggregatesTopic.equals(alertsTopic)
        || aggregatesTopic.equals(rulesTopic)) {
      throw new IllegalArgumentException(
          "monitoring.alerts-topic, monitoring.rules-topic and monitoring.aggregates-topic must"
              + " differ, were '"
              + alertsTopic
              + "', '"
              + rulesTopic
              + "', '"
              + aggregatesTopic
              + "'");
    }
    if (aggregatesPartitions < 0) {
      throw new IllegalArgumentException(
          "monitoring.aggregates-partitions must be >= 0, was " + aggregatesPartitions);
    }
    if (windowGrace.isNegative()) {
      throw new IllegalArgumentException(
          "monitoring.window-grace must be >= 0, was " + windowGrace);
    }
    if (idlePartitionTimeout.toMillis() < 1) {
      throw new IllegalArgumentException(
          "monitoring.idle-partition-timeout must be >= 1ms, was " + idlePartitionTimeout);
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
        DEFAULT_AGGREGATES_TOPIC,
        0,
        DEFAULT_WINDOW_GRACE,
        DEFAULT_IDLE_PARTITION_TIMEOUT,
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
    return new Builder(this).enabled(on).build();
  }

  /** A copy with another rules file (null for none). */
  public MonitoringSettings withRulesFile(@Nullable Path file) {
    return new Builder(this).rulesFile(file).build();
  }

  /** A copy with other statistics windows. */
  public MonitoringSettings withStatsWindow(Duration window) {
    return new Builder(this).statsWindow(window).build();
  }

  /** A copy with redaction on or off. */
  public MonitoringSettings withRedactTokens(boolean redact) {
    return new Builder(this).redactTokens(redact).build();
  }

  /** A copy with other alerts, rules and aggregates topics. */
  public MonitoringSettings withTopics(String alerts, String rules, String aggregates) {
    return new Builder(this).topics(alerts, rules, aggregates).build();
  }

  /** A copy with another grace of the per-SAE windows. */
  public MonitoringSettings withWindowGrace(Duration grace) {
    return new Builder(this).windowGrace(grace).build();
  }

  private static void checkTopic(String key, String topic) {
    if (!LEGAL_TOPIC.matcher(topic).matches() || topic.equals(".") || topic.equals("..")) {
      throw new IllegalArgumentException(
          key
              + " must be a legal Kafka topic name ([a-zA-Z0-9._-], 1 to 249 chars), was '"
              + topic
              + "'");
    }
  }

  /** Copy-and-change helper of the with-methods; validation happens in {@link #build()}. */
  private static final class Builder {
    private boolean enabled;
    private String alertsTopic;
    private String rulesTopic;
    private String aggregatesTopic;
    private final int aggregatesPartitions;
    private Duration windowGrace;
    private final Duration idlePartitionTimeout;
    private @Nullable Path rulesFile;
    private final Duration rulesPollInterval;
    private final int contextTokens;
    private boolean redactTokens;
    private Duration statsWindow;
    private final int statsRetentionWindows;
    private final int topContexts;
    private final double denseDensity;
    private final int recentAlerts;

    Builder(MonitoringSettings s) {
      enabled = s.enabled;
      alertsTopic = s.alertsTopic;
      rulesTopic = s.rulesTopic;
      aggregatesTopic = s.aggregatesTopic;
      aggregatesPartitions = s.aggregatesPartitions;
      windowGrace = s.windowGrace;
      idlePartitionTimeout = s.idlePartitionTimeout;
      rulesFile = s.rulesFile;
      rulesPollInterval = s.rulesPollInterval;
      contextTokens = s.contextTokens;
      redactTokens = s.redactTokens;
      statsWindow = s.statsWindow;
      statsRetentionWindows = s.statsRetentionWindows;
      topContexts = s.topContexts;
      denseDensity = s.denseDensity;
      recentAlerts = s.recentAlerts;
    }

    Builder enabled(boolean on) {
      enabled = on;
      return this;
    }

    Builder rulesFile(@Nullable Path file) {
      rulesFile = file;
      return this;
    }

    Builder statsWindow(Duration window) {
      statsWindow = window;
      return this;
    }

    Builder redactTokens(boolean redact) {
      redactTokens = redact;
      return this;
    }

    Builder topics(String alerts, String rules, String aggregates) {
      alertsTopic = alerts;
      rulesTopic = rules;
      aggregatesTopic = aggregates;
      return this;
    }

    Builder windowGrace(Duration grace) {
      windowGrace = grace;
      return this;
    }

    MonitoringSettings build() {
      return new MonitoringSettings(
          enabled,
          alertsTopic,
          rulesTopic,
          aggregatesTopic,
          aggregatesPartitions,
          windowGrace,
          idlePartitionTimeout,
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
  }
}
