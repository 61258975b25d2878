package io.saestream.streams.errors;

import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.streams.StreamsMetrics;

/**
 * The dead-letter counter: Kafka Streams custom sensors, one per {@link DeadLetterReason} and
 * stream thread, in group {@value #GROUP} with metrics {@code dead-letter-total} and {@code
 * dead-letter-rate}, tagged {@code reason=<}{@link DeadLetterReason#tagValue()}{@code >} and {@code
 * thread-id}. They are reported wherever Kafka Streams metrics are ({@code KafkaStreams#metrics()},
 * JMX, {@code TopologyTestDriver#metrics()}).
 *
 * <p>Created by a processor in {@code init} on its stream thread and used only by that processor;
 * not thread-safe. The sensors belong to the thread and outlive the processor (other tasks of the
 * thread share them).
 */
public final class DeadLetterMetrics {

  /** The metric scope; Kafka Streams derives the group and an entity tag from it. */
  public static final String SCOPE = "sae-dead-letter";

  /** The metric group. */
  public static final String GROUP = "stream-" + SCOPE + "-metrics";

  /** Name of the cumulative count of dead letters. */
  public static final String TOTAL = "dead-letter-total";

  /** Name of the per-second rate of dead letters. */
  public static final String RATE = "dead-letter-rate";

  /** Tag holding {@link DeadLetterReason#tagValue()}. */
  public static final String REASON_TAG = "reason";

  private static final String OPERATION = "dead-letter";

  private final Map<DeadLetterReason, Sensor> sensors = new EnumMap<>(DeadLetterReason.class);

  private DeadLetterMetrics(StreamsMetrics metrics) {
    for (DeadLetterReason reason : DeadLetterReason.values()) {
      // One sensor per reason (the entity name keys the sensor), registered up front so that
      // dashboards show zeros rather than missing series.
      sensors.put(
          reason,
          metrics.addRateTotalSensor(
              SCOPE,
              reason.tagValue(),
              OPERATION,
              Sensor.RecordingLevel.INFO,
              REASON_TAG,
              reason.tagValue()));
    }
  }

  /** Registers (or finds) the sensors of the calling stream thread. */
  public static DeadLetterMetrics register(StreamsMetrics metrics) {
    return new DeadLetterMetrics(Objects.requireNonNull(metrics, "metrics"));
  }

  /** Counts one dead letter. */
  public void record(DeadLetterReason reason) {
    Sensor sensor = sensors.get(reason);
    if (sensor == null) {
      throw new IllegalStateException("no sensor for " + reason);
    }
    sensor.record();
  }

  /** The dead letters counted for {@code reason}, summed over stream threads. */
  public static long total(Map<MetricName, ? extends Metric> metrics, DeadLetterReason reason) {
    double sum = 0;
    for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
      MetricName name = e.getKey();
      if (name.group().equals(GROUP)
          && name.name().equals(TOTAL)
          && reason.tagValue().equals(name.tags().get(REASON_TAG))) {
        sum += ((Number) e.getValue().metricValue()).doubleValue();
      }
    }
    return Math.round(sum);
  }

  /** The dead letters counted for every reason, summed over stream threads. */
  public static long total(Map<MetricName, ? extends Metric> metrics) {
    long sum = 0;
    for (DeadLetterReason reason : DeadLetterReason.values()) {
      sum += total(metrics, reason);
    }
    return sum;
  }
}
