package io.saestream.launcher.demo;

import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.serde.SpecificAvroDeserializer;
import io.saestream.schema.v1.FeatureAlert;
import io.saestream.schema.v1.ReconstructionStats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
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
 * What the demo shows: a read_committed consumer of the reconstruction-stats, alerts and
 * dead-letter topics on its own daemon thread. It aggregates token-weighted FVU, relative error and
 * L0 per console interval, per second of event time (the activations' produced_at) and per SAE
 * version, counts the batches processed and dead-lettered, and keeps the alerts.
 *
 * <p>Per-version means leave out the {@code excluded} spans (the drift episode), so that they
 * measure each version on normal traffic. Times are seconds after {@code startMillis}.
 *
 * <p>Owns its consumer and thread from {@link #start} to {@link #close()}. The accessors are
 * thread-safe (synchronized).
 */
final class DemoProgress implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(DemoProgress.class);

  /** Token-weighted means of one interval, second or SAE version, at {@code seconds}. */
  record Point(
      double seconds, long tokens, double fvu, double relativeError, double l0, long version) {}

  /**
   * An alert read from the alerts topic.
   *
   * @param seconds when the app created it
   * @param ruleId the rule that fired
   * @param saeVersion the SAE version it was judged on
   * @param latent the latent the rule watches, or null for reconstruction rules
   * @param observed the value that crossed the threshold
   * @param threshold the rule's threshold
   */
  record Alert(
      double seconds,
      String ruleId,
      long saeVersion,
      @Nullable Integer latent,
      double observed,
      double threshold) {}

  /** A time span, {@code from} to {@code to} seconds. */
  record Span(double from, double to) {
    boolean contains(double seconds) {
      return seconds >= from && seconds < to;
    }
  }

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final SpecificAvroDeserializer<ReconstructionStats> statsDeserializer;
  private final SpecificAvroDeserializer<FeatureAlert> alertDeserializer;
  private final String statsTopic;
  private final String alertsTopic;
  private final long startMillis;
  private final List<Span> excluded;
  private final Thread thread;
  private volatile boolean closed;

  private final Accumulator interval = new Accumulator();
  private final TreeMap<Long, Accumulator> perSecond = new TreeMap<>();
  private final TreeMap<Long, Accumulator> perVersion = new TreeMap<>();
  private final Map<Long, Double> firstSeen = new HashMap<>();
  private final List<Alert> alerts = new ArrayList<>();
  private long totalTokens;
  private long processed;
  private long deadLetters;
  private long lastVersion = -1;
  private @Nullable RuntimeException failure;

  private DemoProgress(
      String bootstrap,
      SchemaRegistryClient registry,
      String statsTopic,
      String alertsTopic,
      long startMillis,
      List<Span> excluded) {
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
    this.excluded = List.copyOf(excluded);
    this.thread = new Thread(this::readLoop, "sae-stream-demo-progress");
    this.thread.setDaemon(true);
  }

  /** Assigns every partition of the three topics from the beginning and starts reading. */
  static DemoProgress start(
      String bootstrap,
      SchemaRegistryClient registry,
      String statsTopic,
      String alertsTopic,
      String deadLetterTopic,
      long startMillis,
      List<Span> excluded) {
    DemoProgress progress =
        new DemoProgress(bootstrap, registry, statsTopic, alertsTopic, startMillis, excluded);
    List<TopicPartition> partitions = new ArrayList<>();
    for (String topic : List.of(statsTopic, alertsTopic, deadLetterTopic)) {
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
        ConsumerRecords<byte[], byte[]> polled = consumer.poll(Duration.ofMillis(100));
        for (ConsumerRecord<byte[], byte[]> record : polled) {
          if (record.topic().equals(statsTopic)) {
            ReconstructionStats stats = statsDeserializer.deserialize(statsTopic, record.value());
            if (stats != null) {
              add(stats, record.timestamp());
            }
          } else if (record.topic().equals(alertsTopic)) {
            FeatureAlert alert = alertDeserializer.deserialize(alertsTopic, record.value());
            if (alert != null) {
              add(alert);
            }
          } else {
            countDeadLetter();
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

  private synchronized void countDeadLetter() {
    deadLetters++;
  }

  private synchronized void add(ReconstructionStats stats, long timestampMillis) {
    int n = stats.getNTokens();
    double relativeError = 0;
    for (Float e : stats.getRelativeError()) {
      relativeError += e;
    }
    relativeError /= Math.max(1, n);
    double fvu = stats.getFvu();
    double l0 = stats.getMeanL0();
    long version = stats.getSaeVersion();
    double seconds = (timestampMillis - startMillis) / 1e3;
    interval.add(n, fvu, relativeError, l0);
    Accumulator second =
        perSecond.computeIfAbsent((long) Math.floor(seconds), s -> new Accumulator());
    second.add(n, fvu, relativeError, l0);
    second.version = version;
    firstSeen.merge(version, seconds, Math::min);
    if (excluded.stream().noneMatch(s -> s.contains(seconds))) {
      perVersion.computeIfAbsent(version, v -> new Accumulator()).add(n, fvu, relativeError, l0);
    }
    totalTokens += n;
    processed++;
    lastVersion = version;
  }

  private synchronized void add(FeatureAlert alert) {
    alerts.add(
        new Alert(
            (alert.getCreatedAt().toEpochMilli() - startMillis) / 1e3,
            alert.getRuleId(),
            alert.getSaeVersion(),
            alert.getLatentIndex(),
            alert.getObservedValue(),
            alert.getThreshold()));
  }

  /** Closes the current console interval at {@code seconds}; null when no tokens arrived in it. */
  synchronized @Nullable Point closeInterval(double seconds) {
    if (interval.tokens == 0) {
      return null;
    }
    Point p = interval.point(seconds, lastVersion);
    interval.reset();
    return p;
  }

  /** Tokens whose stats were read so far. */
  synchronized long totalTokens() {
    return totalTokens;
  }

  /** Activation batches whose reconstruction stats were read (committed) so far. */
  synchronized long processed() {
    return processed;
  }

  /** Records read from the dead-letter topic so far. */
  synchronized long deadLetters() {
    return deadLetters;
  }

  /** The SAE version of the last stats read, or -1. */
  synchronized long lastVersion() {
    return lastVersion;
  }

  /** Means per second of event time, in time order (seconds = the middle of the second). */
  synchronized List<Point> timeline() {
    return perSecond.entrySet().stream()
        .map(e -> e.getValue().point(e.getKey() + 0.5, e.getValue().version))
        .toList();
  }

  /**
   * Means per SAE version outside the excluded spans, by version; seconds = when the version's
   * first batch was produced.
   */
  synchronized List<Point> perVersion() {
    return perVersion.entrySet().stream()
        .map(e -> e.getValue().point(firstSeen.getOrDefault(e.getKey(), Double.NaN), e.getKey()))
        .toList();
  }

  /** When each version served its first batch (event time), by version. */
  synchronized Map<Long, Double> versionsFirstSeen() {
    return Collections.unmodifiableMap(new TreeMap<>(firstSeen));
  }

  /** The alerts read so far. */
  synchronized List<Alert> alerts() {
    return List.copyOf(alerts);
  }

  /** The reader's failure, or null. */
  synchronized @Nullable RuntimeException failure() {
    return failure;
  }

  /** Stops reading and closes the consumer; waits up to {@code timeout} for the thread. */
  void close(Duration timeout) {
    closed = true;
    consumer.wakeup();
    try {
      thread.join(Math.max(1, timeout.toMillis()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while stopping the progress reader", e);
    }
    if (thread.isAlive()) {
      LOG.warn("The demo's progress reader did not stop within {}", timeout);
    }
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(3));
  }

  /** Token-weighted sums. Guarded by the enclosing instance. */
  private static final class Accumulator {
    private long tokens;
    // FVU is NaN for a batch without variance (e.g. one token); such batches carry no FVU weight.
    private long fvuTokens;
    private double fvu;
    private double relativeError;
    private double l0;
    private long version = -1;

    void add(int n, double batchFvu, double batchRelativeError, double batchL0) {
      tokens += n;
      if (Double.isFinite(batchFvu)) {
        fvuTokens += n;
        fvu += n * batchFvu;
      }
      relativeError += n * batchRelativeError;
      l0 += n * batchL0;
    }

    Point point(double seconds, long pointVersion) {
      double t = Math.max(1, tokens);
      double meanFvu = fvuTokens == 0 ? Double.NaN : fvu / fvuTokens;
      return new Point(seconds, tokens, meanFvu, relativeError / t, l0 / t, pointVersion);
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
