package io.saestream.streams.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.saestream.streams.swap.CheckpointMetrics;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;

/**
 * The hot-swap counters of a {@link CheckpointMetrics} (which keeps its own Kafka {@code Metrics}
 * registry, outside Kafka Streams) as Micrometer counters: {@link MeterNames#CHECKPOINT_SWAPS} per
 * SAE and {@link MeterNames#CHECKPOINT_REJECTED} per reason. Every series is registered up front by
 * {@link CheckpointMetrics}, so binding once sees them all. The version it also keeps is left out:
 * {@link SaeModelMeters} reports it whether or not checkpoints are followed.
 *
 * <p>The meters hold the source weakly (Micrometer's function counters do), so they read it for as
 * long as its owner keeps it, and NaN after. Thread-safe.
 */
final class CheckpointMeters<S> implements MeterBinder {

  private final S source;
  private final Function<? super S, ? extends Map<MetricName, ? extends Metric>> metricsOf;

  /**
   * Meters over the metrics of {@code source}, read with {@code metricsOf}: normally a {@link
   * CheckpointMetrics} and {@code CheckpointMetrics::metrics}.
   */
  CheckpointMeters(
      S source, Function<? super S, ? extends Map<MetricName, ? extends Metric>> metricsOf) {
    this.source = Objects.requireNonNull(source, "source");
    this.metricsOf = Objects.requireNonNull(metricsOf, "metricsOf");
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    for (MetricName name : metricsOf.apply(source).keySet()) {
      if (!name.group().equals(CheckpointMetrics.GROUP)) {
        continue;
      }
      if (name.name().equals(CheckpointMetrics.SWAPS_TOTAL)) {
        counter(name, MeterNames.CHECKPOINT_SWAPS, "Checkpoints swapped in")
            .tag(MeterNames.SAE_TAG, tag(name, CheckpointMetrics.SAE_TAG))
            .register(registry);
      } else if (name.name().equals(CheckpointMetrics.REJECTED_TOTAL)) {
        counter(name, MeterNames.CHECKPOINT_REJECTED, "Checkpoints refused, by reason")
            .tag(MeterNames.REASON_TAG, tag(name, CheckpointMetrics.REASON_TAG))
            .register(registry);
      }
    }
  }

  private FunctionCounter.Builder<S> counter(MetricName name, String meter, String description) {
    return FunctionCounter.builder(meter, source, s -> read(metricsOf.apply(s), name))
        .description(description);
  }

  private static double read(Map<MetricName, ? extends Metric> metrics, MetricName name) {
    Metric metric = metrics.get(name);
    // Gone once its sensor is removed.
    return metric != null && metric.metricValue() instanceof Number n
        ? n.doubleValue()
        : Double.NaN;
  }

  private static String tag(MetricName name, String key) {
    String value = name.tags().get(key);
    if (value == null) {
      throw new IllegalArgumentException(
          "checkpoint metric " + name.name() + " lacks tag " + key + ": " + name.tags());
    }
    return value;
  }
}
