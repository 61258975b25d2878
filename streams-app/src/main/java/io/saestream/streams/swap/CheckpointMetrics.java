package io.saestream.streams.swap;

import io.saestream.schema.checkpoint.RejectionReason;
import io.saestream.streams.registry.DeployedSae;
import io.saestream.streams.registry.SaeRegistry;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.Gauge;
import org.apache.kafka.common.metrics.JmxReporter;
import org.apache.kafka.common.metrics.KafkaMetricsContext;
import org.apache.kafka.common.metrics.MetricConfig;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.common.metrics.stats.CumulativeCount;
import org.apache.kafka.common.utils.Time;

/**
 * The hot-swap metrics, in group {@value #GROUP}, tagged {@code client-id} (the follower's):
 *
 * <ul>
 *   <li>{@value #REJECTED_TOTAL}{@code {reason}}: checkpoints refused, per {@link
 *       RejectionReason#tagValue()} or {@link SwapRejectionReason#tagValue()}; every reason is
 *       registered up front so dashboards show zeros rather than missing series;
 *   <li>{@value #SWAPS_TOTAL}{@code {sae-id}}: checkpoints swapped in;
 *   <li>{@value #ACTIVE_VERSION}{@code {sae-id}}: the version served now (gauge).
 * </ul>
 *
 * <p>Reported over JMX under the {@code sae.stream} domain and readable with {@link #metrics()}.
 * Owned by the {@link CheckpointFollower}; thread-safe.
 */
public final class CheckpointMetrics implements AutoCloseable {

  /** The metric group. */
  public static final String GROUP = "sae-checkpoint-metrics";

  /** Cumulative count of refused checkpoints, tagged {@value #REASON_TAG}. */
  public static final String REJECTED_TOTAL = "sae-checkpoint-rejected-total";

  /** Cumulative count of swaps, tagged {@value #SAE_TAG}. */
  public static final String SWAPS_TOTAL = "sae-checkpoint-swaps-total";

  /** Version served, tagged {@value #SAE_TAG}. */
  public static final String ACTIVE_VERSION = "sae-checkpoint-active-version";

  /** Tag of the refusal reason. */
  public static final String REASON_TAG = "reason";

  /** Tag of the SAE id. */
  public static final String SAE_TAG = "sae-id";

  /** Tag of the follower, unique per process. */
  public static final String CLIENT_TAG = "client-id";

  private static final String JMX_DOMAIN = "sae.stream";

  private final Metrics metrics;
  private final String clientId;
  private final Map<String, Sensor> rejected = new HashMap<>();
  private final Map<String, Sensor> swaps = new HashMap<>();

  /** Registers every metric for the SAEs of {@code registry}. */
  CheckpointMetrics(String clientId, SaeRegistry registry) {
    this.clientId = Objects.requireNonNull(clientId, "clientId");
    this.metrics =
        new Metrics(
            new MetricConfig(),
            List.of(new JmxReporter()),
            Time.SYSTEM,
            new KafkaMetricsContext(JMX_DOMAIN));
    for (String reason : reasonTags()) {
      Sensor sensor = metrics.sensor("checkpoint-rejected." + reason);
      sensor.add(
          name(REJECTED_TOTAL, "Checkpoints refused for this reason", REASON_TAG, reason),
          new CumulativeCount());
      rejected.put(reason, sensor);
    }
    for (DeployedSae sae : registry.deployed()) {
      String id = sae.saeId();
      Sensor sensor = metrics.sensor("checkpoint-swaps." + id);
      sensor.add(name(SWAPS_TOTAL, "Checkpoints swapped in", SAE_TAG, id), new CumulativeCount());
      swaps.put(id, sensor);
      Gauge<Long> version =
          (config, now) -> registry.find(id).map(DeployedSae::version).orElse(-1L);
      metrics.addMetric(name(ACTIVE_VERSION, "Version served now", SAE_TAG, id), version);
    }
  }

  /** Every reason a checkpoint can be refused for, as metric tags. */
  public static List<String> reasonTags() {
    List<String> tags = new ArrayList<>();
    for (RejectionReason r : RejectionReason.values()) {
      tags.add(r.tagValue());
    }
    for (SwapRejectionReason r : SwapRejectionReason.values()) {
      tags.add(r.tagValue());
    }
    return Collections.unmodifiableList(tags);
  }

  void recordRejected(String reasonTag) {
    Sensor sensor = rejected.get(reasonTag);
    if (sensor == null) {
      throw new IllegalArgumentException("unknown rejection reason " + reasonTag);
    }
    sensor.record();
  }

  void recordSwap(String saeId) {
    Sensor sensor = swaps.get(saeId);
    if (sensor == null) {
      throw new IllegalArgumentException("SAE " + saeId + " is not deployed");
    }
    sensor.record();
  }

  /** Every metric, e.g. for a metrics endpoint. */
  public Map<MetricName, ? extends Metric> metrics() {
    return metrics.metrics();
  }

  /** Checkpoints refused for {@code reasonTag} so far. */
  public long rejected(String reasonTag) {
    return count(name(REJECTED_TOTAL, "", REASON_TAG, reasonTag));
  }

  /** Checkpoints refused for any reason so far. */
  public long rejectedTotal() {
    long sum = 0;
    for (String reason : reasonTags()) {
      sum += rejected(reason);
    }
    return sum;
  }

  /** Checkpoints of {@code saeId} swapped in so far. */
  public long swaps(String saeId) {
    return count(name(SWAPS_TOTAL, "", SAE_TAG, saeId));
  }

  /** The version of {@code saeId} served now, -1 when it is not deployed. */
  public long activeVersion(String saeId) {
    return count(name(ACTIVE_VERSION, "", SAE_TAG, saeId));
  }

  /** Unregisters the metrics (and their MBeans). */
  @Override
  public void close() {
    metrics.close();
  }

  private MetricName name(String metric, String description, String tag, String value) {
    return metrics.metricName(metric, GROUP, description, Map.of(CLIENT_TAG, clientId, tag, value));
  }

  private long count(MetricName name) {
    Metric metric = metrics.metrics().get(name);
    if (metric == null) {
      throw new IllegalArgumentException("no metric " + name.name() + " " + name.tags());
    }
    return Math.round(((Number) metric.metricValue()).doubleValue());
  }
}
