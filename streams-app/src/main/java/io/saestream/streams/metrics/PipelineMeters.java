package io.saestream.streams.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.saestream.streams.errors.DeadLetterMetrics;
import io.saestream.streams.errors.DeadLetterReason;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;

/**
 * The pipeline's own meters, summed over stream threads from the Kafka Streams metrics of one
 * instance: tokens and batches processed ({@link TokenMetrics}), dead letters by reason ({@link
 * DeadLetterMetrics}) and, per SAE, inference calls and latency (the sensors of the topology's
 * analyze processor). Every series is registered when bound, so that a reason or SAE that has seen
 * nothing yet reads 0 rather than missing, and values are read from the source at each scrape.
 *
 * <p>The meters hold the source weakly (Micrometer's function meters do), so they read it for as
 * long as its owner keeps it, and NaN after. Thread-safe as far as reading the source's metrics is.
 */
final class PipelineMeters<S> implements MeterBinder {

  /** Group of the analyze processor's per-SAE inference sensors. */
  static final String INFERENCE_GROUP = "stream-sae-inference-metrics";

  /** Tag of those sensors naming the SAE (Kafka Streams derives it from the scope). */
  static final String INFERENCE_SAE_TAG = "sae-inference-id";

  private static final double MS_PER_SECOND = 1000.0;

  private static final String FETCH_GROUP = "consumer-fetch-manager-metrics";

  private final S source;
  private final Function<? super S, ? extends Map<MetricName, ? extends Metric>> metricsOf;
  private final List<String> saeIds;

  /**
   * Meters over the metrics of {@code source} (a {@code KafkaStreams}, or a {@code
   * TopologyTestDriver} in tests), read with {@code metricsOf}, for the SAEs {@code saeIds}.
   */
  PipelineMeters(
      S source,
      Function<? super S, ? extends Map<MetricName, ? extends Metric>> metricsOf,
      List<String> saeIds) {
    this.source = Objects.requireNonNull(source, "source");
    this.metricsOf = Objects.requireNonNull(metricsOf, "metricsOf");
    this.saeIds = List.copyOf(saeIds);
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    FunctionCounter.builder(
            MeterNames.TOKENS_PROCESSED, source, s -> TokenMetrics.tokensTotal(metricsOf.apply(s)))
        .description("Tokens of accepted activation batches")
        .register(registry);
    FunctionCounter.builder(
            MeterNames.BATCHES_PROCESSED,
            source,
            s -> TokenMetrics.batchesTotal(metricsOf.apply(s)))
        .description("Accepted activation batches")
        .register(registry);
    for (DeadLetterReason reason : DeadLetterReason.values()) {
      FunctionCounter.builder(
              MeterNames.DEAD_LETTERS,
              source,
              s -> DeadLetterMetrics.total(metricsOf.apply(s), reason))
          .description("Input records sent to the dead-letter topic, by reason")
          .tag(MeterNames.REASON_TAG, reason.tagValue())
          .register(registry);
    }
    Gauge.builder(MeterNames.CONSUMER_LAG_MAX, source, s -> consumerLagMax(metricsOf.apply(s)))
        .description(
            "Largest lag in records of the stream threads' input consumers over Kafka's sample"
                + " window (NaN before the first fetch)")
        .register(registry);
    for (String id : saeIds) {
      FunctionCounter.builder(
              MeterNames.INFERENCE_CALLS, source, s -> inferenceCalls(metricsOf.apply(s), id))
          .description("Batches analyzed by the SAE")
          .tag(MeterNames.SAE_TAG, id)
          .register(registry);
      Gauge.builder(
              MeterNames.INFERENCE_LATENCY_AVG,
              source,
              s -> latencyAvgSeconds(metricsOf.apply(s), id))
          .description(
              "Mean time of one inference over Kafka's sample window (NaN when idle), weighted by"
                  + " each stream thread's call rate")
          .baseUnit("seconds")
          .tag(MeterNames.SAE_TAG, id)
          .register(registry);
      Gauge.builder(
              MeterNames.INFERENCE_LATENCY_MAX,
              source,
              s -> latencyMaxSeconds(metricsOf.apply(s), id))
          .description("Longest inference over Kafka's sample window (NaN when idle)")
          .baseUnit("seconds")
          .tag(MeterNames.SAE_TAG, id)
          .register(registry);
    }
  }

  static double inferenceCalls(Map<MetricName, ? extends Metric> metrics, String saeId) {
    double sum = 0;
    for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
      if (isInference(e.getKey(), "inference-total", saeId)) {
        sum += finiteOrZero(e.getValue());
      }
    }
    return sum;
  }

  static double latencyMaxSeconds(Map<MetricName, ? extends Metric> metrics, String saeId) {
    double max = Double.NaN;
    for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
      if (isInference(e.getKey(), "inference-latency-max", saeId)) {
        double v = value(e.getValue());
        if (Double.isFinite(v) && !(v <= max)) {
          max = v;
        }
      }
    }
    return max / MS_PER_SECOND;
  }

  static double latencyAvgSeconds(Map<MetricName, ? extends Metric> metrics, String saeId) {
    double weighted = 0;
    double calls = 0;
    for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
      MetricName name = e.getKey();
      if (!isInference(name, "inference-latency-avg", saeId)) {
        continue;
      }
      double avg = value(e.getValue());
      Metric rateMetric =
          metrics.get(new MetricName("inference-rate", name.group(), "", name.tags()));
      double rate = rateMetric == null ? Double.NaN : value(rateMetric);
      if (Double.isFinite(avg) && Double.isFinite(rate) && rate > 0) {
        weighted += avg * rate;
        calls += rate;
      }
    }
    return calls > 0 ? weighted / calls / MS_PER_SECOND : Double.NaN;
  }

  static double consumerLagMax(Map<MetricName, ? extends Metric> metrics) {
    double max = Double.NaN;
    for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
      MetricName name = e.getKey();
      String client = name.tags().get("client-id");
      // Client-level series only (per-partition ones carry a topic tag), and only the consumers
      // that read the input: a restore consumer's lag is changelog left to restore.
      if (name.group().equals(FETCH_GROUP)
          && name.name().equals("records-lag-max")
          && !name.tags().containsKey("topic")
          && client != null
          && client.endsWith("-consumer")
          && !client.endsWith("-restore-consumer")) {
        double v = value(e.getValue());
        if (Double.isFinite(v) && !(v <= max)) {
          max = v;
        }
      }
    }
    return max;
  }

  private static boolean isInference(MetricName name, String metric, String saeId) {
    return name.group().equals(INFERENCE_GROUP)
        && name.name().equals(metric)
        && saeId.equals(name.tags().get(INFERENCE_SAE_TAG));
  }

  private static double value(Metric metric) {
    Object v = metric.metricValue();
    return v instanceof Number n ? n.doubleValue() : Double.NaN;
  }

  private static double finiteOrZero(Metric metric) {
    double v = value(metric);
    return Double.isFinite(v) ? v : 0;
  }
}
