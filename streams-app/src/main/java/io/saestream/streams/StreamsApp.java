package io.saestream.streams;

import io.saestream.sae.cli.SignalStop;
import io.saestream.schema.registry.RestSchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.serde.AvroSerdeConfig;
import io.saestream.schema.serde.SpecificAvroSerializer;
import io.saestream.schema.v1.FeatureAlert;
import io.saestream.schema.v1.FeatureBatch;
import io.saestream.schema.v1.ReconstructionStats;
import io.saestream.streams.config.HttpSettings;
import io.saestream.streams.config.StreamsAppConfig;
import io.saestream.streams.dashboard.DashboardAssets;
import io.saestream.streams.errors.SaeUncaughtExceptionHandler;
import io.saestream.streams.http.ApiRouter;
import io.saestream.streams.http.HttpApiServer;
import io.saestream.streams.http.JdkPeerClient;
import io.saestream.streams.http.StaticAssets;
import io.saestream.streams.http.StreamsBackend;
import io.saestream.streams.inference.InferenceEngine;
import io.saestream.streams.metrics.AppMetrics;
import io.saestream.streams.monitoring.AggregatesTopic;
import io.saestream.streams.monitoring.MonitoringTopology;
import io.saestream.streams.monitoring.RecentAlerts;
import io.saestream.streams.monitoring.rules.RuleBook;
import io.saestream.streams.monitoring.rules.RuleFileWatcher;
import io.saestream.streams.registry.SaeLoader;
import io.saestream.streams.registry.SaeRegistry;
import io.saestream.streams.serde.ActivationBatchDecoder;
import io.saestream.streams.swap.CheckpointFollower;
import io.saestream.streams.topology.SaeTopology;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.HostInfo;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running streams app: loads the SAEs, builds the topology and runs it on Kafka Streams.
 *
 * <p>Ownership: owns the {@link InferenceEngine}, the {@link SaeRegistry} (and through it every
 * ONNX Runtime session), the {@link KafkaStreams} client, when {@code checkpoints.follow} is on the
 * {@link CheckpointFollower} that hot-swaps newer checkpoints into the registry, and when {@code
 * http.enabled} is on the {@link HttpApiServer} and the {@link AppMetrics} it serves. With
 * monitoring on, start-up creates the aggregates topic when missing ({@link AggregatesTopic}). The
 * HTTP server is bound before Kafka Streams is created (its port is {@code application.server}) and
 * answers once the stream threads start. {@link #close()} stops the HTTP server first, then the
 * metrics, the follower, then the stream threads, leaving the consumer group so that partitions
 * move at once, and only then closes the sessions they were using. Thread-safe; {@link #close()} is
 * idempotent and may run from a shutdown hook.
 */
public final class StreamsApp implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(StreamsApp.class);

  private final StreamsAppConfig config;
  private final InferenceEngine engine;
  private final SaeRegistry registry;
  private final KafkaStreams streams;
  private volatile @Nullable CheckpointFollower follower;
  private final RuleBook rules;
  private final RecentAlerts recentAlerts;
  private final @Nullable HttpApiServer http;
  private volatile @Nullable AppMetrics metrics;
  private volatile @Nullable RuleFileWatcher ruleFileWatcher;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final AtomicBoolean failed = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();

  private StreamsApp(
      StreamsAppConfig config,
      InferenceEngine engine,
      SaeRegistry registry,
      Topology topology,
      MonitoringState monitoring,
      @Nullable HttpApiServer http) {
    this.rules = monitoring.rules();
    this.recentAlerts = monitoring.recentAlerts();
    this.http = http;
    this.config = config;
    this.engine = engine;
    this.registry = registry;
    this.streams =
        new KafkaStreams(
            topology, config.kafkaStreamsProperties(http == null ? null : http.advertised()));
    streams.setUncaughtExceptionHandler(new SaeUncaughtExceptionHandler());
    streams.setStateListener(this::onStateChange);
  }

  /** Starts the app with a REST schema-registry client and the system clock. */
  public static StreamsApp start(StreamsAppConfig config) {
    return start(
        config,
        new RestSchemaRegistryClient(config.schemaRegistry().clientConfig()),
        Clock.systemUTC());
  }

  /**
   * Resolves the device, loads every SAE, builds the topology and starts the stream threads;
   * returns once they are starting (they join the group in the background).
   *
   * @param registryClient the schema-registry client for the serdes (not owned)
   * @param clock source of {@code produced_at}, of alerts' {@code created_at} and of the HTTP API's
   *     uptime and rates
   * @throws io.saestream.streams.registry.DeploymentException when an SAE cannot be deployed
   * @throws io.saestream.streams.inference.InferenceException when the device cannot be used
   */
  public static StreamsApp start(
      StreamsAppConfig config, SchemaRegistryClient registryClient, Clock clock) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(registryClient, "registryClient");
    Objects.requireNonNull(clock, "clock");
    InferenceEngine engine = InferenceEngine.create(config.inference());
    SaeRegistry registry;
    try {
      registry = SaeRegistry.load(config.deployments(), new SaeLoader(engine));
    } catch (RuntimeException e) {
      engine.close();
      throw e;
    }
    MonitoringState monitoring =
        new MonitoringState(new RuleBook(), new RecentAlerts(config.monitoring().recentAlerts()));
    StreamsApp app;
    HttpApiServer http = null;
    try {
      AvroSerdeConfig serde =
          AvroSerdeConfig.forValues()
              .withAutoRegisterSchemas(config.schemaRegistry().autoRegisterSchemas());
      Topology topology =
          SaeTopology.build(
              config.topics(),
              new ActivationBatchDecoder(registryClient),
              new SpecificAvroSerializer<FeatureBatch>(registryClient, serde),
              new SpecificAvroSerializer<ReconstructionStats>(registryClient, serde),
              registry,
              config.streams().maxTokensPerRecord(),
              clock,
              config.monitoring().enabled()
                  ? new MonitoringTopology.Wiring(
                      config.monitoring(),
                      new SpecificAvroSerializer<FeatureAlert>(registryClient, serde),
                      monitoring.rules(),
                      monitoring.recentAlerts())
                  : null);
      LOG.debug("Topology:\n{}", topology.describe());
      if (config.monitoring().enabled()) {
        createAggregatesTopic(config);
      }
      if (config.http().enabled()) {
        http = HttpApiServer.bind(config.http());
      }
      app = new StreamsApp(config, engine, registry, topology, monitoring, http);
    } catch (RuntimeException e) {
      if (http != null) {
        http.close();
      }
      registry.close();
      engine.close();
      throw e;
    }
    LOG.info(
        "Starting sae-stream {} on {}: {} SAE(s), {} stream thread(s), {} -> {}, {} (dead letters"
            + " {})",
        config.kafka().applicationId(),
        config.kafka().bootstrapServers(),
        registry.deployed().size(),
        config.streams().threads(),
        config.topics().activations(),
        config.topics().features(),
        config.topics().reconstruction(),
        config.topics().deadLetter());
    try {
      if (config.checkpoints().follow()) {
        app.follower =
            CheckpointFollower.start(config, registryClient, registry, new SaeLoader(engine));
      }
      java.nio.file.Path rulesFile = config.monitoring().rulesFile();
      if (config.monitoring().enabled() && rulesFile != null) {
        app.ruleFileWatcher =
            RuleFileWatcher.start(rulesFile, app.rules, config.monitoring().rulesPollInterval());
      }
      app.streams.start();
      if (app.http != null) {
        app.startHttp(clock);
      }
    } catch (RuntimeException e) {
      app.close();
      throw e;
    }
    return app;
  }

  private static void createAggregatesTopic(StreamsAppConfig config) {
    Map<String, Object> adminConfig =
        new StreamsConfig(config.kafkaStreamsProperties())
            .getAdminConfigs(config.kafka().applicationId() + "-monitoring-admin");
    try (Admin admin = Admin.create(adminConfig)) {
      AggregatesTopic.ensure(admin, config.monitoring(), config.topics().activations());
    }
  }

  /** Starts answering HTTP requests; the stream threads are starting. */
  private void startHttp(Clock clock) {
    HttpApiServer server = http;
    if (server == null) {
      return;
    }
    CheckpointFollower f = follower;
    AppMetrics appMetrics = AppMetrics.bind(streams, registry, f == null ? null : f.metrics());
    metrics = appMetrics;
    StaticAssets assets = DashboardAssets::resolve;
    HttpSettings settings = config.http();
    ApiRouter router =
        new ApiRouter(
            new StreamsBackend(
                streams,
                new HostInfo(settings.advertisedHostOrBind(), server.port()),
                registry,
                config.deployments().size(),
                config.monitoring().enabled() ? config.monitoring() : null,
                recentAlerts,
                rules,
                clock),
            new JdkPeerClient(settings.forwardTimeout()),
            settings.bearerToken(),
            assets,
            appMetrics::scrape,
            settings.forwardTimeout());
    server.start(router);
  }

  /**
   * Starts the app, closes it on SIGTERM or Ctrl-C and blocks until it stops. The signals are
   * handled ({@link SignalStop}) rather than left to the JVM's shutdown hooks, which run at once
   * with ONNX Runtime's own hook that releases its native environment under running sessions; a
   * shutdown hook remains the fallback (a signal the JVM keeps, {@code System.exit} elsewhere).
   *
   * @return the process exit code: 0 after a requested shutdown, 1 when the app stopped on its own
   *     because of a failure
   */
  public static int run(StreamsAppConfig config) throws InterruptedException {
    StreamsApp app = start(config);
    Thread hook = new Thread(app::close, "sae-stream-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try (SignalStop signals =
        SignalStop.install(
            signal -> {
              LOG.info("{}: stopping", signal);
              // Off the JVM's signal thread: closing waits for the stream threads.
              new Thread(app::close, "sae-stream-stop").start();
            })) {
      LOG.debug("Stopping on {}", signals.handled());
      app.awaitStop();
    }
    if (!app.closed.get()) {
      // Stopped on its own (stream threads failed): release resources, then report the failure.
      app.close();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        LOG.debug("JVM already shutting down", e);
      }
    }
    return app.failed.get() ? 1 : 0;
  }

  /** Blocks until the stream threads have stopped (failure or {@link #close()}). */
  public void awaitStop() throws InterruptedException {
    stopped.await();
  }

  /** Blocks up to {@code timeout} for the stream threads to stop; true when they have. */
  public boolean awaitStop(Duration timeout) throws InterruptedException {
    return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Whether the app stopped because of a failure. */
  public boolean failed() {
    return failed.get();
  }

  /** The Kafka Streams client, for state and metrics. */
  public KafkaStreams kafkaStreams() {
    return streams;
  }

  /** The alert rules in force (file and rules topic). */
  public RuleBook rules() {
    return rules;
  }

  /** The most recent alerts of this instance (empty unless monitoring is enabled). */
  public RecentAlerts recentAlerts() {
    return recentAlerts;
  }

  /** The port of the HTTP server, when {@code http.enabled} is on. */
  public OptionalInt httpPort() {
    HttpApiServer server = http;
    return server == null ? OptionalInt.empty() : OptionalInt.of(server.port());
  }

  /** The SAEs being served. */
  public SaeRegistry registry() {
    return registry;
  }

  /** The checkpoint follower, when {@code checkpoints.follow} is on. */
  public Optional<CheckpointFollower> checkpointFollower() {
    return Optional.ofNullable(follower);
  }

  /** The inference engine (its resolved execution provider). */
  public InferenceEngine engine() {
    return engine;
  }

  /** The configuration the app runs with. */
  public StreamsAppConfig config() {
    return config;
  }

  /**
   * Stops the HTTP server, then the stream threads (leaving the consumer group, waiting up to
   * {@code streams.shutdown-timeout}), then closes the SAE sessions and the engine. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    Duration timeout = config.streams().shutdownTimeout();
    LOG.info("Stopping sae-stream {} (timeout {})", config.kafka().applicationId(), timeout);
    HttpApiServer server = http;
    if (server != null) {
      // First, so that no query reaches stores that are closing.
      server.close();
    }
    AppMetrics m = metrics;
    if (m != null) {
      // Before the stream threads, whose metrics it reads.
      m.close();
    }
    RuleFileWatcher w = ruleFileWatcher;
    if (w != null) {
      w.close();
    }
    CheckpointFollower f = follower;
    if (f != null) {
      // First, so that no swap starts while the sessions are being closed.
      f.close();
    }
    boolean clean =
        streams.close(
            CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(timeout));
    if (!clean) {
      LOG.warn("Stream threads did not stop within {}; closing the SAE sessions anyway", timeout);
    }
    // Sessions are reference counted: a thread still inside an inference keeps its session open
    // until it returns, so closing them now is safe even after a timeout.
    registry.close();
    engine.close();
    stopped.countDown();
    LOG.info("Stopped sae-stream {}", config.kafka().applicationId());
  }

  private void onStateChange(KafkaStreams.State newState, KafkaStreams.State oldState) {
    LOG.info("Kafka Streams state {} -> {}", oldState, newState);
    if (newState == KafkaStreams.State.ERROR) {
      failed.set(true);
      stopped.countDown();
    } else if (newState == KafkaStreams.State.NOT_RUNNING && !closed.get()) {
      stopped.countDown();
    }
  }

  /** The monitoring objects shared by the topology and the app. */
  private record MonitoringState(RuleBook rules, RecentAlerts recentAlerts) {}
}
