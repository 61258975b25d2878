package io.saestream.streams.metrics;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.MetricConfig;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.common.metrics.stats.CumulativeCount;
import org.apache.kafka.common.metrics.stats.CumulativeSum;
import org.apache.kafka.common.metrics.stats.Rate;
import org.apache.kafka.streams.StreamsMetrics;

/**
 * The throughput counter: a Kafka Streams custom sensor per stream thread, in group {@value
 * #GROUP}, tagged {@value #THREAD_TAG}, with metrics {@value #TOKENS_TOTAL} (tokens of accepted
 * batches), {@value #TOKENS_RATE} (tokens per second over about ten seconds) and {@value
 * #BATCHES_TOTAL} (accepted batches). Like every Kafka Streams metric it is reported by {@code
 * KafkaStreams#metrics()} and {@code TopologyTestDriver#metrics()}, and so by {@link AppMetrics}.
 *
 * <p>Registered by a processor in {@code init} on its stream thread; the tasks of one thread share
 * its sensor, which outlives them. {@link #record} is thread-safe (Kafka sensors are).
 */
public final class TokenMetrics {

  /** The metric group. */
  public static final String GROUP = "stream-sae-tokens-metrics";

  /** Cumulative number of tokens in accepted batches. */
  public static final String TOKENS_TOTAL = "tokens-total";

  /** Tokens per second, over the last {@value #RATE_SAMPLES} seconds or so. */
  public static final String TOKENS_RATE = "tokens-rate";

  /** Cumulative number of accepted batches. */
  public static final String BATCHES_TOTAL = "batches-total";

  /** Tag holding the stream thread's name. */
  public static final String THREAD_TAG = "thread-id";

  private static final String SENSOR_PREFIX = "sae-tokens.";

  /** One-second samples the rate is taken over. */
  private static final int RATE_SAMPLES = 10;

  private final Sensor sensor;

  private TokenMetrics(Sensor sensor) {
    this.sensor = sensor;
  }

  /** Registers (or finds) the sensor of the calling stream thread. */
  public static TokenMetrics register(StreamsMetrics metrics) {
    Objects.requireNonNull(metrics, "metrics");
    String thread = Thread.currentThread().getName();
    // The sensor name is scoped by thread so that each thread reports its own series; a second
    // task of the same thread finds the sensor and its metrics already there (add is idempotent).
    Sensor sensor = metrics.addSensor(SENSOR_PREFIX + thread, Sensor.RecordingLevel.INFO);
    Map<String, String> tags = Map.of(THREAD_TAG, thread);
    sensor.add(
        new MetricName(TOKENS_TOTAL, GROUP, "Tokens of accepted activation batches", tags),
        new CumulativeSum());
    // A live number for the dashboard: ten one-second samples (Kafka's default is 2 x 30 s).
    sensor.add(
        new MetricName(TOKENS_RATE, GROUP, "Tokens of accepted batches per second", tags),
        new Rate(),
        new MetricConfig().samples(RATE_SAMPLES).timeWindow(1, TimeUnit.SECONDS));
    sensor.add(
        new MetricName(BATCHES_TOTAL, GROUP, "Accepted activation batches", tags),
        new CumulativeCount());
    return new TokenMetrics(sensor);
  }

  /** Counts one accepted batch of {@code tokens} tokens. */
  public void record(int tokens) {
    if (tokens < 0) {
      throw new IllegalArgumentException("tokens must be >= 0, was " + tokens);
    }
    sensor.record(tokens);
  }

  /** Tokens counted so far, summed over stream threads. */
  public static long tokensTotal(Map<MetricName, ? extends Metric> metrics) {
    return Math.round(sum(metrics, TOKENS_TOTAL));
  }

  /** Batches counted so far, summed over stream threads. */
  public static long batchesTotal(Map<MetricName, ? extends Metric> metrics) {
    return Math.round(sum(metrics, BATCHES_TOTAL));
  }

  /** Tokens per second over the last ten seconds or so, summed over stream threads. */
  public static double tokensPerSecond(Map<MetricName, ? extends Metric> metrics) {
    return sum(metrics, TOKENS_RATE);
  }

  private static double sum(Map<MetricName, ? extends Metric> metrics, String name) {
    double sum = 0;
    for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
      MetricName n = e.getKey();
      if (n.group().equals(GROUP) && n.name().equals(name)) {
        double v = ((Number) e.getValue().metricValue()).doubleValue();
        if (Double.isFinite(v)) {
          sum += v;
        }
      }
    }
    return sum;
  }
}
