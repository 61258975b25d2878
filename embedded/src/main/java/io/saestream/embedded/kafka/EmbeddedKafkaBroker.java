package io.saestream.embedded.kafka;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntSupplier;
import java.util.stream.Collectors;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Apache Kafka broker running inside this JVM: one {@link KafkaRaftServer} in
 * KRaft combined mode (broker and controller), with a PLAINTEXT listener on {@code localhost}.
 *
 * <p>Lifetime: {@link #start()} formats the log dir (unless already formatted), starts the server
 * and returns once it answers clients; {@link #close()} shuts it down, releases both ports and
 * deletes the log dir if it was a temporary one. A broker starts at most once. Several brokers may
 * run in one JVM on different ports (each is its own cluster).
 *
 * <p>Like a standalone broker, Kafka's fatal fault handlers halt the JVM on unrecoverable metadata
 * errors; the embedded broker does not intercept them.
 *
 * <p>Thread-safe: start and close are serialized; topic helpers may be called concurrently.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);

  /** Attempts to start when an automatically picked port was taken before Kafka could bind it. */
  static final int PORT_ATTEMPTS = 3;

  private static final Duration ADMIN_CALL_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration POLL_INTERVAL = Duration.ofMillis(100);

  private enum State {
    NEW,
    STARTING,
    RUNNING,
    CLOSED
  }

  private final EmbeddedKafkaConfig config;
  private final IntSupplier freePorts;

  private State state = State.NEW;
  private @Nullable KafkaRaftServer server;
  private @Nullable Admin admin;
  private @Nullable Path logDir;
  private boolean ownsLogDir;
  private int brokerPort;
  private int controllerPort;
  private @Nullable String clusterId;

  /** A broker that will run with {@code config}; nothing happens until {@link #start()}. */
  public EmbeddedKafkaBroker(EmbeddedKafkaConfig config) {
    this(config, EmbeddedKafkaBroker::findFreePort);
  }

  /** For tests: {@code freePorts} stands in for binding an ephemeral port. */
  EmbeddedKafkaBroker(EmbeddedKafkaConfig config, IntSupplier freePorts) {
    this.config = config;
    this.freePorts = freePorts;
  }

  /** A broker with {@link EmbeddedKafkaConfig#defaults()}, not yet started. */
  public static EmbeddedKafkaBroker withDefaults() {
    return new EmbeddedKafkaBroker(EmbeddedKafkaConfig.defaults());
  }

  /**
   * Formats the log dir if needed, starts the broker and waits until it answers a cluster
   * description, within {@link EmbeddedKafkaConfig#startupTimeout()}.
   *
   * @return this broker, for {@code try (var kafka = new EmbeddedKafkaBroker(cfg).start())}
   * @throws IllegalStateException if already started or closed
   * @throws org.apache.kafka.common.KafkaException if Kafka fails to start (everything started so
   *     far is shut down and a temporary log dir deleted)
   * @throws org.apache.kafka.common.errors.TimeoutException if the broker did not serve within the
   *     startup timeout
   */
  public synchronized EmbeddedKafkaBroker start() {
    if (state != State.NEW) {
      throw new IllegalStateException("broker can only be started once, it is " + state);
    }
    long startNanos = System.nanoTime();
    long deadlineNanos = startNanos + config.startupTimeout().toNanos();
    state = State.STARTING;
    try {
      Path dir = prepareLogDir();
      launch(dir);
      awaitServing(deadlineNanos);
    } catch (RuntimeException | Error e) {
      state = State.CLOSED;
      try {
        shutDown();
      } catch (RuntimeException | Error cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
    state = State.RUNNING;
    LOG.info(
        "Kafka broker (KRaft node {}, cluster {}) serving on {} (controller port {}, log dir {}),"
            + " started in {} ms",
        config.nodeId(),
        clusterId,
        bootstrapServers(),
        controllerPort,
        logDir,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
    return this;
  }

  /**
   * {@code localhost:port} of the client listener, for {@code bootstrap.servers}.
   *
   * @throws IllegalStateException unless running
   */
  public synchronized String bootstrapServers() {
    requireRunningOrStarting();
    return SingleNodeBrokerProperties.HOST + ":" + brokerPort;
  }

  /** The client listener port; only meaningful once started. */
  public synchronized int brokerPort() {
    requireRunningOrStarting();
    return brokerPort;
  }

  /** The KRaft controller listener port; only meaningful once started. */
  public synchronized int controllerPort() {
    requireRunningOrStarting();
    return controllerPort;
  }

  /** The data directory in use; a temporary one disappears on {@link #close()}. */
  public synchronized Path logDir() {
    requireRunningOrStarting();
    return requireNonNull(logDir, "logDir");
  }

  /** The configuration this broker was created with. */
  public EmbeddedKafkaConfig config() {
    return config;
  }

  /** Whether {@link #start()} completed and {@link #close()} has not been called. */
  public synchronized boolean isRunning() {
    return state == State.RUNNING;
  }

  /** Creates a topic with the broker's default partition count and waits for its leaders. */
  public void createTopic(String name) {
    createTopics(List.of(new NewTopic(name, Optional.empty(), Optional.empty())));
  }

  /** Creates a topic with {@code partitions} partitions and waits for its leaders. */
  public void createTopic(String name, int partitions) {
    checkPartitions(partitions);
    createTopics(List.of(new NewTopic(name, partitions, (short) 1)));
  }

  /**
   * Creates a log-compacted topic ({@code cleanup.policy=compact}), for changelogs and latest-value
   * topics such as SAE checkpoints, and waits for its leaders.
   */
  public void createCompactedTopic(String name, int partitions) {
    checkPartitions(partitions);
    createTopics(
        List.of(
            new NewTopic(name, partitions, (short) 1)
                .configs(
                    Map.of(
                        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT))));
  }

  /** Creates {@code topics} and waits until every partition has a leader. */
  public void createTopics(NewTopic... topics) {
    createTopics(Arrays.asList(topics));
  }

  /**
   * Creates {@code topics} (replication factor must be unset or 1) and waits until every partition
   * has a leader, so that clients can use them right away.
   *
   * @throws IllegalArgumentException for an empty list or a replication factor other than 1
   * @throws org.apache.kafka.common.errors.TopicExistsException and the other Kafka API errors as
   *     the broker reports them
   * @throws IllegalStateException unless running
   */
  public void createTopics(Collection<NewTopic> topics) {
    if (topics.isEmpty()) {
      throw new IllegalArgumentException("topics must not be empty");
    }
    for (NewTopic t : topics) {
      if (t.replicationFactor() != -1 && t.replicationFactor() != 1) {
        throw new IllegalArgumentException(
            "replication factor of topic '"
                + t.name()
                + "' must be 1 on a single-node cluster, was "
                + t.replicationFactor());
      }
    }
    Admin a = admin();
    await(a.createTopics(topics).all(), "creating topics " + names(topics));
    awaitLeaders(a, names(topics));
  }

  /**
   * Shuts the broker down and waits for it, releases its ports and deletes a temporary log dir.
   * Idempotent; closing a broker that never started just prevents it from starting.
   *
   * @throws UncheckedIOException if the temporary log dir cannot be deleted (the broker is down)
   */
  @Override
  public synchronized void close() {
    if (state == State.CLOSED) {
      return;
    }
    boolean wasRunning = state == State.RUNNING;
    state = State.CLOSED;
    if (wasRunning) {
      long startNanos = System.nanoTime();
      shutDown();
      LOG.info(
          "Kafka broker on port {} stopped in {} ms",
          brokerPort,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
    }
  }

  @Override
  public String toString() {
    return "EmbeddedKafkaBroker[" + config + "]";
  }

  private Path prepareLogDir() {
    Path configured = config.logDir();
    try {
      if (configured != null) {
        Files.createDirectories(configured);
        logDir = configured;
        ownsLogDir = false;
      } else {
        logDir = Files.createTempDirectory("sae-stream-kafka-");
        ownsLogDir = true;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the Kafka log dir " + configured, e);
    }
    return logDir;
  }

  /**
   * Starts the server. When both ports were picked automatically and one was taken before Kafka
   * could bind it, retries with fresh ports; an explicit port in use is the caller's to resolve.
   */
  private void launch(Path dir) {
    boolean portsPicked = config.brokerPort() == 0 && config.controllerPort() == 0;
    for (int attempt = 1; ; attempt++) {
      brokerPort = config.brokerPort() != 0 ? config.brokerPort() : pickPort(-1);
      controllerPort =
          config.controllerPort() != 0 ? config.controllerPort() : pickPort(brokerPort);
      Map<String, String> props =
          SingleNodeBrokerProperties.of(config, brokerPort, controllerPort, dir);
      KafkaConfig kafkaConfig = new KafkaConfig(props, false);
      formatUnlessFormatted(kafkaConfig, dir);
      KafkaRaftServer s = new KafkaRaftServer(kafkaConfig, Time.SYSTEM);
      server = s;
      try {
        s.startup();
        return;
      } catch (RuntimeException e) {
        if (!portsPicked || !causedByBindFailure(e) || attempt >= PORT_ATTEMPTS) {
          throw new KafkaException(
              "Kafka broker failed to start on "
                  + SingleNodeBrokerProperties.HOST
                  + ":"
                  + brokerPort
                  + " (controller port "
                  + controllerPort
                  + ", log dir "
                  + dir
                  + ")",
              e);
        }
        // Kafka has already logged the full failure; one line says why it is not fatal.
        LOG.warn(
            "Kafka could not bind port {} or {} (taken since it was picked: {}), retrying with"
                + " other ports (attempt {} of {})",
            brokerPort,
            controllerPort,
            bindFailureMessage(e),
            attempt + 1,
            PORT_ATTEMPTS);
        server = null;
        s.shutdown();
        s.awaitShutdown();
      }
    }
  }

  /**
   * The programmatic equivalent of {@code kafka-storage.sh format}, skipped for a dir that already
   * holds a cluster, whose id and data a persistent log dir keeps across restarts.
   */
  private void formatUnlessFormatted(KafkaConfig kafkaConfig, Path dir) {
    Path metaProperties = dir.resolve("meta.properties");
    if (Files.exists(metaProperties)) {
      clusterId = readClusterId(metaProperties);
      return;
    }
    String id = Uuid.randomUuid().toString();
    clusterId = id;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8)) {
      new Formatter()
          .setPrintStream(print)
          .setNodeId(kafkaConfig.nodeId())
          .setClusterId(id)
          .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
          .setControllerListenerName(SingleNodeBrokerProperties.CONTROLLER_LISTENER)
          .setMetadataLogDirectory(kafkaConfig.metadataLogDir())
          .setHasDynamicQuorum(false)
          .setWriteBootstrapSnapshot(true)
          .addDirectory(dir.toAbsolutePath().toString())
          .run();
    } catch (Exception e) {
      throw new KafkaException("cannot format the Kafka log dir " + dir, e);
    }
    LOG.debug("{}", out.toString(StandardCharsets.UTF_8).strip());
  }

  private static String readClusterId(Path metaProperties) {
    Properties meta = new Properties();
    try (Reader reader = Files.newBufferedReader(metaProperties, StandardCharsets.UTF_8)) {
      meta.load(reader);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + metaProperties, e);
    }
    String id = meta.getProperty("cluster.id");
    if (id == null) {
      throw new IllegalStateException(
          metaProperties + " has no cluster.id: not a Kafka log dir formatted for KRaft");
    }
    return id;
  }

  private void awaitServing(long deadlineNanos) {
    Map<String, Object> adminProps =
        Map.of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
            SingleNodeBrokerProperties.HOST + ":" + brokerPort,
            AdminClientConfig.CLIENT_ID_CONFIG,
            "embedded-kafka-broker-" + brokerPort);
    Admin a = Admin.create(adminProps);
    admin = a;
    @Nullable Throwable lastTimeout = null;
    while (true) {
      long remainingMillis = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
      if (remainingMillis <= 0) {
        throw new org.apache.kafka.common.errors.TimeoutException(
            "Kafka broker on port "
                + brokerPort
                + " did not serve within "
                + config.startupTimeout(),
            lastTimeout);
      }
      // The admin client keeps reconnecting by itself until the call's own timeout.
      DescribeClusterOptions options =
          new DescribeClusterOptions()
              .timeoutMs((int) Math.min(remainingMillis, Integer.MAX_VALUE));
      try {
        if (!a.describeCluster(options).nodes().get().isEmpty()) {
          return;
        }
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException)) {
          throw new KafkaException(
              "Kafka broker on port " + brokerPort + " failed to describe its cluster",
              e.getCause());
        }
        lastTimeout = e.getCause(); // reported as the cause once the startup deadline passes
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptException(e);
      }
      pause();
    }
  }

  /**
   * Waits until the broker's own metadata shows a leader for every partition: CreateTopics returns
   * once the controller committed the topics, before the broker has necessarily learned of them.
   */
  private void awaitLeaders(Admin a, Set<String> topics) {
    long deadline = System.nanoTime() + ADMIN_CALL_TIMEOUT.toNanos();
    @Nullable UnknownTopicOrPartitionException notYetKnown = null;
    while (true) {
      try {
        Map<String, TopicDescription> descriptions =
            await(a.describeTopics(topics).allTopicNames(), "describing topics " + topics);
        boolean allLed =
            descriptions.values().stream()
                .flatMap(d -> d.partitions().stream())
                .map(TopicPartitionInfo::leader)
                .allMatch(leader -> leader != null && !leader.isEmpty());
        if (allLed && leadersServe(a, descriptions)) {
          return;
        }
      } catch (UnknownTopicOrPartitionException e) {
        notYetKnown = e; // reported as the cause if the deadline passes
      }
      if (System.nanoTime() >= deadline) {
        throw new org.apache.kafka.common.errors.TimeoutException(
            "partitions of " + topics + " had no leader after " + ADMIN_CALL_TIMEOUT, notYetKnown);
      }
      pause();
    }
  }

  /**
   * Whether every partition's leader answers a ListOffsets request. The metadata names a leader
   * before the broker's replica manager has made itself leader; a producer writing in that gap gets
   * NOT_LEADER_OR_FOLLOWER and, after its retry, can be fenced with an out-of-order sequence.
   */
  private static boolean leadersServe(Admin a, Map<String, TopicDescription> descriptions) {
    Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest =
        new java.util.HashMap<>();
    descriptions.forEach(
        (name, d) ->
            d.partitions()
                .forEach(
                    p ->
                        latest.put(
                            new org.apache.kafka.common.TopicPartition(name, p.partition()),
                            org.apache.kafka.clients.admin.OffsetSpec.latest())));
    try {
      a.listOffsets(latest).all().get(ADMIN_CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof org.apache.kafka.common.errors.RetriableException) {
        return false;
      }
      throw new IllegalStateException("listing offsets of " + descriptions.keySet(), e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while listing offsets", e);
    }
  }

  private static void pause() {
    try {
      Thread.sleep(POLL_INTERVAL.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptException(e);
    }
  }

  /** Stops whatever is running and deletes a temporary log dir; leaves fields cleared. */
  private void shutDown() {
    @Nullable RuntimeException failure = null;
    Admin a = admin;
    admin = null;
    if (a != null) {
      a.close(Duration.ZERO);
    }
    KafkaRaftServer s = server;
    server = null;
    if (s != null) {
      s.shutdown();
      s.awaitShutdown();
    }
    Path dir = logDir;
    logDir = null;
    if (dir != null && ownsLogDir) {
      try {
        Utils.delete(dir.toFile());
      } catch (IOException e) {
        failure = new UncheckedIOException("cannot delete the Kafka log dir " + dir, e);
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private synchronized Admin admin() {
    if (state != State.RUNNING) {
      throw new IllegalStateException("broker is not running, it is " + state);
    }
    return requireNonNull(admin, "admin");
  }

  private void requireRunningOrStarting() {
    if (state != State.RUNNING && state != State.STARTING) {
      throw new IllegalStateException("broker is not running, it is " + state);
    }
  }

  private int pickPort(int avoid) {
    for (int i = 0; i < 10; i++) {
      int port = freePorts.getAsInt();
      if (port != avoid) {
        return port;
      }
    }
    throw new IllegalStateException("no free port different from " + avoid + " after 10 tries");
  }

  /** A port that was free a moment ago on the loopback interface. */
  static int findFreePort() {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find a free port", e);
    }
  }

  private static boolean causedByBindFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof BindException) {
        return true;
      }
    }
    return false;
  }

  /** The message of the innermost exception that names the address, for a one-line warning. */
  private static @Nullable String bindFailureMessage(Throwable e) {
    @Nullable String message = e.getMessage();
    for (Throwable t = e; t != null; t = t.getCause()) {
      @Nullable String m = t.getMessage();
      if (m != null && m.contains("bind")) {
        message = m;
      }
    }
    return message;
  }

  private static <T> T await(KafkaFuture<T> future, String what) {
    try {
      return future.get(ADMIN_CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException runtime) {
        // Kafka's API errors carry no stack trace; record where this call waited for the result.
        runtime.addSuppressed(new KafkaException(what + " failed"));
        throw runtime;
      }
      throw new KafkaException(what + " failed", cause);
    } catch (TimeoutException e) {
      throw new org.apache.kafka.common.errors.TimeoutException(
          what + " took longer than " + ADMIN_CALL_TIMEOUT, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptException(e);
    }
  }

  private static Set<String> names(Collection<NewTopic> topics) {
    return topics.stream().map(NewTopic::name).collect(Collectors.toCollection(TreeSet::new));
  }

  private static void checkPartitions(int partitions) {
    if (partitions <= 0) {
      throw new IllegalArgumentException("partitions must be > 0, was " + partitions);
    }
  }

  private static <T> T requireNonNull(@Nullable T value, String what) {
    if (value == null) {
      throw new IllegalStateException(what + " is not set");
    }
    return value;
  }
}
