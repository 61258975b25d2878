package io.saestream.streams.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code monitoring.*} keys: file, defaults, environment overrides and bad values. */
class MonitoringConfigTest {

  private static final Path BASE = Path.of("/etc/sae-stream");
  private static final String DEPLOYMENTS =
      """
      deployments:
        - sae-id: a
          path: saes/a
      """;

  @Test
  void defaultsToOff() {
    MonitoringSettings m = ConfigLoader.parse(DEPLOYMENTS, BASE, Map.of()).monitoring();
    assertThat(m).isEqualTo(MonitoringSettings.defaults());
    assertThat(m.enabled()).isFalse();
  }

  @Test
  void readsEveryKeyAndLetsTheEnvironmentOverride() {
    MonitoringSettings m =
        ConfigLoader.parse(
                """
                monitoring:
                  enabled: true
                  alerts-topic: al
                  rules-topic: ru
                  aggregates-topic: ag
                  aggregates-partitions: 6
                  window-grace: 3s
                  idle-partition-timeout: 1m
                  rules-file: rules.yaml
                  rules-poll-interval: 2s
                  context-tokens: 3
                  redact-tokens: true
                  stats-window: 30s
                  stats-retention-windows: 10
                  top-contexts: 4
                  dense-density: 0.2
                  recent-alerts: 50
                """
                    + DEPLOYMENTS,
                BASE,
                Map.of("SAE_STREAM_MONITORING_STATS_WINDOW", "5m"))
            .monitoring();
    assertThat(m)
        .isEqualTo(
            new MonitoringSettings(
                true,
                "al",
                "ru",
                "ag",
                6,
                Duration.ofSeconds(3),
                Duration.ofMinutes(1),
                BASE.resolve("rules.yaml"),
                Duration.ofSeconds(2),
                3,
                true,
                Duration.ofMinutes(5),
                10,
                4,
                0.2,
                50));
  }

  @Test
  void rejectsBadValuesNamingTheKey() {
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    "monitoring: {dense-density: 2}\n" + DEPLOYMENTS, BASE, Map.of()))
        .hasMessageContaining("monitoring.dense-density must be in (0, 1], was 2.0");
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    "monitoring: {dense-density: x}\n" + DEPLOYMENTS, BASE, Map.of()))
        .hasMessageContaining("monitoring.dense-density must be a number");
    assertThatThrownBy(
            () -> ConfigLoader.parse("monitoring: {colour: red}\n" + DEPLOYMENTS, BASE, Map.of()))
        .hasMessageContaining("unknown configuration key 'monitoring.colour'");
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    "monitoring: {alerts-topic: x, rules-topic: x}\n" + DEPLOYMENTS,
                    BASE,
                    Map.of()))
        .hasMessageContaining("must differ");
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    "monitoring: {stats-retention-windows: 0}\n" + DEPLOYMENTS, BASE, Map.of()))
        .hasMessageContaining("monitoring.stats-retention-windows must be >= 1, was 0");
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    "monitoring: {aggregates-topic: 'a b'}\n" + DEPLOYMENTS, BASE, Map.of()))
        .hasMessageContaining("monitoring.aggregates-topic must be a legal Kafka topic name");
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    "monitoring: {aggregates-topic: sae.alerts.v1}\n" + DEPLOYMENTS,
                    BASE,
                    Map.of()))
        .hasMessageContaining("must differ");
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    "monitoring: {aggregates-partitions: -1}\n" + DEPLOYMENTS, BASE, Map.of()))
        .hasMessageContaining("monitoring.aggregates-partitions must be >= 0, was -1");
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    "monitoring: {window-grace: -1s}\n" + DEPLOYMENTS, BASE, Map.of()))
        .hasMessageContaining("monitoring.window-grace");
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    "monitoring: {enabled: true, aggregates-topic: sae.features.v1}\n"
                        + DEPLOYMENTS,
                    BASE,
                    Map.of()))
        .hasMessageContaining("'sae.features.v1' is used twice");
  }
}
