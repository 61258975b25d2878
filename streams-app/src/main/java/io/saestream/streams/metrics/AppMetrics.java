package io.saestream.streams.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.saestream.streams.errors.DeadLetterMetrics;
import io.saestream.streams.registry.DeployedSae;
import io.saestream.streams.registry.SaeRegistry;
import io.saestream.streams.swap.CheckpointMetrics;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.streams.KafkaStreams;
import org.jspecify.annotations.Nullable;

/**
 * The app's Prometheus metrics: a {@link PrometheusMeterRegistry} with the JVM and process binders,
 * every Kafka Streams metric of one instance (Micrometer's {@link KafkaStreamsMetrics}: client,
 * thread, task, consumer, producer and our custom sensors, named {@code kafka_<group>_<name>}), and
 * sae-stream's own meters ({@link MeterNames}; {@code streams-app/docs/metrics.md}): tokens
 * processed, dead letters by reason, inference calls and latency per SAE, the input consumers' lag,
 * the version each SAE serves, and hot swaps and refused checkpoints when checkpoints are followed.
 *
 * <p>Ownership and lifetime: bound to a {@link KafkaStreams} client and an {@link SaeRegistry} it
 * does not own, it owns its meter registry and the daemon thread that picks up Kafka metrics
 * created after binding (stream threads and custom sensors appear as tasks start) every {@link
 * #DEFAULT_REFRESH}. Close it before the Kafka Streams client; {@link #scrape()} after {@link
 * #close()} throws {@link IllegalStateException}. Thread-safe: scrapes may run concurrently.
 */
public final class AppMetrics implements AutoCloseable {

  /** Content type of {@link #scrape()}: the Prometheus text exposition format 0.0.4. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  /** How often Kafka metrics created after binding are looked for. */
  public static final Duration DEFAULT_REFRESH = Duration.ofSeconds(10);

  private final PrometheusMeterRegistry registry;
  private final KafkaStreams streams;
  private final ScheduledExecutorService refresher;
  private final KafkaStreamsMetrics kafkaStreamsMetrics;
  private final JvmGcMetrics gcMetrics;
  private final AtomicBoolean closed = new AtomicBoolean();

  private AppMetrics(
      KafkaStreams streams,
      SaeRegistry saes,
      @Nullable CheckpointMetrics checkpoints,
      Duration refresh) {
    this.streams = streams;
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    this.refresher =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "sae-metrics-refresh");
              t.setDaemon(true);
              return t;
            });
    this.kafkaStreamsMetrics = new KafkaStreamsMetrics(streams, Tags.empty(), refresher, refresh);
    this.gcMetrics = new JvmGcMetrics();
    try {
      new ClassLoaderMetrics().bindTo(registry);
      new JvmMemoryMetrics().bindTo(registry);
      gcMetrics.bindTo(registry);
      new JvmThreadMetrics().bindTo(registry);
      new JvmInfoMetrics().bindTo(registry);
      new ProcessorMetrics().bindTo(registry);
      new UptimeMetrics().bindTo(registry);
      new FileDescriptorMetrics().bindTo(registry);
      kafkaStreamsMetrics.bindTo(registry);
      new PipelineMeters<>(
              streams,
              KafkaStreams::metrics,
              saes.deployed().stream().map(DeployedSae::saeId).toList())
          .bindTo(registry);
      new SaeModelMeters(saes).bindTo(registry);
      if (checkpoints != null) {
        new CheckpointMeters<>(checkpoints, CheckpointMetrics::metrics).bindTo(registry);
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Binds the metrics of {@code streams} and {@code saes} (neither owned). */
  public static AppMetrics bind(KafkaStreams streams, SaeRegistry saes) {
    return bind(streams, saes, null);
  }

  /**
   * Binds the metrics of {@code streams}, {@code saes} and, when not null, the hot-swap metrics
   * {@code checkpoints} of the app's checkpoint follower (none owned).
   */
  public static AppMetrics bind(
      KafkaStreams streams, SaeRegistry saes, @Nullable CheckpointMetrics checkpoints) {
    return bind(streams, saes, checkpoints, DEFAULT_REFRESH);
  }

  /**
   * As {@link #bind(KafkaStreams, SaeRegistry, CheckpointMetrics)}, refreshing every {@code
   * refresh}.
   */
  static AppMetrics bind(
      KafkaStreams streams,
      SaeRegistry saes,
      @Nullable CheckpointMetrics checkpoints,
      Duration refresh) {
    Objects.requireNonNull(streams, "streams");
    Objects.requireNonNull(saes, "saes");
    Objects.requireNonNull(refresh, "refresh");
    if (refresh.toMillis() < 1) {
      throw new IllegalArgumentException("refresh must be >= 1ms, was " + refresh);
    }
    return new AppMetrics(streams, saes, checkpoints, refresh);
  }

  /**
   * Every meter in the Prometheus text format ({@link #CONTENT_TYPE}).
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public String scrape() {
    checkOpen();
    return registry.scrape();
  }

  /** The meter registry, for meters of other components (it stays owned by this object). */
  public MeterRegistry registry() {
    checkOpen();
    return registry;
  }

  /** Tokens of accepted batches so far, summed over stream threads. */
  public long tokensTotal() {
    return TokenMetrics.tokensTotal(streams.metrics());
  }

  /** Accepted batches so far, summed over stream threads. */
  public long batchesTotal() {
    return TokenMetrics.batchesTotal(streams.metrics());
  }

  /** Dead letters so far, all reasons, summed over stream threads. */
  public long deadLettersTotal() {
    return DeadLetterMetrics.total(streams.metrics());
  }

  /** Stops the refresh thread and releases every meter. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    kafkaStreamsMetrics.close();
    refresher.shutdownNow();
    gcMetrics.close();
    registry.close();
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException("AppMetrics is closed");
    }
  }
}
