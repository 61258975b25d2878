package io.saestream.launcher.demo;

import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.serde.SpecificAvroDeserializer;
import io.saestream.schema.v1.FeatureAlert;
import io.saestream.schema.v1.ReconstructionStats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the demo shows: a read_committed consumer of the reconstruction-stats and alerts topics on
 * its own daemon thread, aggregating token-weighted FVU, relative error and L0 per interval and per
 * SAE version, and the alerts seen.
 *
 * <p>Owns its consumer and thread from {@link #start} to {@link #close()}. The accessors are
 * thread-safe (synchronized).
 */
final class DemoProgress implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(DemoProgress.class);

  /** Token-weighted means of one interval (or of one SAE version). */
  record Point(
      double seconds, long tokens, double fvu, double relativeError, double l0, long version) {}

  /** An alert read from the alerts topic, at {@code seconds} after the demo started. */
  record Alert(double seconds, String ruleId, long saeVersion, double observed, double threshold) {}

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final SpecificAvroDeserializer<ReconstructionStats> statsDeserializer;
  private final SpecificAvroDeserializer<FeatureAlert> alertDeserializer;
  private final String statsTopic;
  private final String alertsTopic;
  private final long startMillis;
  private final Thread thread;
  private volatile boolean closed;

  private final Accumulator interval = new Accumulator();
  private final Map<Long, Accumulator> perVersion = new TreeMap<>();
  private final List<Point> points = new ArrayList<>();
  private final List<Alert> alerts = new ArrayList<>();
  private long totalTokens;
  private long lastVersion = -1;
  private @Nullable RuntimeException failure;

  private DemoProgress(
      String bootstrap,
      SchemaRegistryClient registry,
      String statsTopic,
      String alertsTopic,
      long startMillis) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "sae-stream-demo-progress");
    this.consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.statsDeserializer = new SpecificAvroDeserializer<>(registry, ReconstructionStats.class);
    this.alertDeserializer = new SpecificAvroDeserializer<>(registry, FeatureAlert.class);
    this.statsTopic = statsTopic;
    this.alertsTopic = alertsTopic;
    this.startMillis = startMillis;
    this.thread = new Thread(this::readLoop, "sae-stream-demo-progress");
    this.thread.setDaemon(true);
  }

  /** Assigns every partition of both topics from the beginning and starts reading. */
  static DemoProgress start(
      String bootstrap,
      SchemaRegistryClient registry,
      String statsTopic,
      String alertsTopic,
      long startMillis) {
    DemoProgress progress =
        new DemoProgress(bootstrap, registry, statsTopic, alertsTopic, startMillis);
    List<TopicPartition> partitions = new ArrayList<>();
    for (String topic : List.of(statsTopic, alertsTopic)) {
      progress.consumer.partitionsFor(topic).stream()
          .map(p -> new TopicPartition(topic, p.partition()))
          .forEach(partitions::add);
    }
    progress.consumer.assign(partitions);
    progress.consumer.seekToBeginning(partitions);
    progress.thread.start();
    return progress;
  }

  private void readLoop() {
    try {
      while (!closed) {
        ConsumerRecords<byte[], byte[]> polled = consumer.poll(Duration.ofMillis(200));
        for (ConsumerRecord<byte[], byte[]> record : polled) {
          if (record.topic().equals(statsTopic)) {
            ReconstructionStats stats = statsDeserializer.deserialize(statsTopic, record.value());
            if (stats != null) {
              add(stats);
            }
          } else {
            FeatureAlert alert = alertDeserializer.deserialize(alertsTopic, record.value());
            if (alert != null) {
              add(alert);
            }
          }
        }
      }
    } catch (WakeupException e) {
      if (!closed) {
        fail(new IllegalStateException("progress reader woken up unexpectedly", e));
      }
    } catch (RuntimeException e) {
      fail(e);
    } finally {
      consumer.close();
    }
  }

  private synchronized void fail(RuntimeException e) {
    LOG.error("The demo's progress reader failed", e);
    failure = e;
  }

  private synchronized void add(ReconstructionStats stats) {
    int n = stats.getNTokens();
    double relativeError = 0;
    for (Float e : stats.getRelativeError()) {
      relativeError += e;
    }
    double fvu = stats.getFvu();
    double l0 = stats.getMeanL0();
    interval.add(n, fvu, relativeError / Math.max(1, n), l0);
    perVersion
        .computeIfAbsent(stats.getSaeVersion(), v -> new Accumulator())
        .add(n, fvu, relativeError / Math.max(1, n), l0);
    totalTokens += n;
    lastVersion = stats.getSaeVersion();
  }

  private synchronized void add(FeatureAlert alert) {
    alerts.add(
        new Alert(
            (alert.getCreatedAt().toEpochMilli() - startMillis) / 1e3,
            alert.getRuleId(),
            alert.getSaeVersion(),
            alert.getObservedValue(),
            alert.getThreshold()));
  }

  /** Closes the current interval at {@code seconds}; null when no tokens arrived in it. */
  synchronized @Nullable Point closeInterval(double seconds) {
    if (interval.tokens == 0) {
      return null;
    }
    Point p = interval.point(seconds, lastVersion);
    points.add(p);
    interval.reset();
    return p;
  }

  /** Tokens whose stats were read so far. */
  synchronized long totalTokens() {
    return totalTokens;
  }

  /** The SAE version of the last stats read, or -1. */
  synchronized long lastVersion() {
    return lastVersion;
  }

  /** The intervals closed so far. */
  synchronized List<Point> points() {
    return List.copyOf(points);
  }

  /** Means per SAE version, by version. */
  synchronized List<Point> perVersion() {
    return perVersion.entrySet().stream().map(e -> e.getValue().point(0, e.getKey())).toList();
  }

  /** The alerts read so far. */
  synchronized List<Alert> alerts() {
    return List.copyOf(alerts);
  }

  /** The reader's failure, or null. */
  synchronized @Nullable RuntimeException failure() {
    return failure;
  }

  @Override
  public void close() {
    closed = true;
    consumer.wakeup();
    try {
      thread.join(Duration.ofSeconds(5).toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while stopping the progress reader", e);
    }
  }

  /** Token-weighted sums. Guarded by the enclosing instance. */
  private static final class Accumulator {
    private long tokens;
    // FVU is NaN for a batch without variance (e.g. one token); such batches carry no FVU weight.
    private long fvuTokens;
    private double fvu;
    private double relativeError;
    private double l0;

    void add(int n, double batchFvu, double batchRelativeError, double batchL0) {
      tokens += n;
      if (Double.isFinite(batchFvu)) {
        fvuTokens += n;
        fvu += n * batchFvu;
      }
      relativeError += n * batchRelativeError;
      l0 += n * batchL0;
    }

    Point point(double seconds, long version) {
      double t = Math.max(1, tokens);
      double meanFvu = fvuTokens == 0 ? Double.NaN : fvu / fvuTokens;
      return new Point(seconds, tokens, meanFvu, relativeError / t, l0 / t, version);
    }

    void reset() {
      tokens = 0;
      fvuTokens = 0;
      fvu = 0;
      relativeError = 0;
      l0 = 0;
    }
  }
}
