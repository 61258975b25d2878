package io.saestream.streams.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.saestream.streams.swap.CheckpointMetrics;
import java.util.Map;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.common.metrics.stats.CumulativeCount;
import org.apache.kafka.common.metrics.stats.Value;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The hot-swap counters bridged from a Kafka {@code Metrics} registry laid out as {@link
 * CheckpointMetrics} lays out its own (its names, group and tags); the real follower's metrics are
 * bound in {@code AppMetricsIT}.
 */
class CheckpointMetersTest {

  private Metrics metrics;
  private PrometheusMeterRegistry registry;

  @BeforeEach
  void create() {
    metrics = new Metrics();
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  }

  @AfterEach
  void close() {
    registry.close();
    metrics.close();
  }

  @Test
  void swapsPerSaeAndRejectionsPerReasonAreCounters() {
    Sensor badSha =
        counter(CheckpointMetrics.REJECTED_TOTAL, CheckpointMetrics.REASON_TAG, "bad-sha256");
    counter(CheckpointMetrics.REJECTED_TOTAL, CheckpointMetrics.REASON_TAG, "incompatible");
    Sensor swaps = counter(CheckpointMetrics.SWAPS_TOTAL, CheckpointMetrics.SAE_TAG, "topk");
    Sensor version = metrics.sensor("version");
    version.add(
        name(CheckpointMetrics.ACTIVE_VERSION, CheckpointMetrics.SAE_TAG, "topk"), new Value());
    version.record(3);
    new CheckpointMeters<>(metrics, Metrics::metrics).bindTo(registry);

    badSha.record();
    badSha.record();
    swaps.record();

    PrometheusSamples scrape = PrometheusSamples.parse(registry.scrape());
    assertThat(scrape.value("sae_checkpoint_rejected_total", Map.of("reason", "bad-sha256")))
        .isEqualTo(2.0);
    assertThat(scrape.value("sae_checkpoint_rejected_total", Map.of("reason", "incompatible")))
        .isZero();
    assertThat(scrape.value("sae_checkpoint_swaps_total", Map.of("sae_id", "topk"))).isEqualTo(1.0);
    assertThat(scrape.names())
        .as("the version is the registry's gauge, not repeated here")
        .noneMatch(n -> n.contains("version"));
  }

  @Test
  void metricsOfOtherGroupsAreLeftOut() {
    Sensor other = metrics.sensor("other");
    other.add(
        metrics.metricName(CheckpointMetrics.SWAPS_TOTAL, "another-group"), new CumulativeCount());
    new CheckpointMeters<>(metrics, Metrics::metrics).bindTo(registry);

    assertThat(PrometheusSamples.parse(registry.scrape()).has("sae_checkpoint_swaps_total"))
        .isFalse();
  }

  @Test
  void aSwapCounterWithoutItsSaeTagIsRefusedNamingIt() {
    Sensor sensor = metrics.sensor("untagged");
    sensor.add(
        new MetricName(CheckpointMetrics.SWAPS_TOTAL, CheckpointMetrics.GROUP, "", Map.of()),
        new CumulativeCount());

    assertThatThrownBy(() -> new CheckpointMeters<>(metrics, Metrics::metrics).bindTo(registry))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(CheckpointMetrics.SWAPS_TOTAL)
        .hasMessageContaining("lacks tag " + CheckpointMetrics.SAE_TAG);
  }

  @Test
  void aCounterWhoseMetricWasRemovedReadsNaN() {
    counter(CheckpointMetrics.SWAPS_TOTAL, CheckpointMetrics.SAE_TAG, "topk").record();
    new CheckpointMeters<>(metrics, Metrics::metrics).bindTo(registry);

    metrics.removeSensor(CheckpointMetrics.SWAPS_TOTAL + ".topk");

    assertThat(
            PrometheusSamples.parse(registry.scrape())
                .value("sae_checkpoint_swaps_total", Map.of("sae_id", "topk")))
        .isNaN();
  }

  private Sensor counter(String metric, String tag, String value) {
    Sensor sensor = metrics.sensor(metric + "." + value);
    sensor.add(name(metric, tag, value), new CumulativeCount());
    return sensor;
  }

  private static MetricName name(String metric, String tag, String value) {
    return new MetricName(
        metric,
        CheckpointMetrics.GROUP,
        "",
        Map.of(CheckpointMetrics.CLIENT_TAG, "f-1", tag, value));
  }
}
