package io.saestream.embedded.kafka;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * How to run an {@link EmbeddedKafkaBroker}. Immutable and validated on construction; build one
 * with {@link #builder()}.
 *
 * @param brokerPort client (PLAINTEXT) listener port; 0 picks a free port at start
 * @param controllerPort KRaft controller listener port; 0 picks a free port at start
 * @param nodeId KRaft node id, persisted in the log dir: keep it when restarting on the same dir
 * @param logDir data directory kept after close; {@code null} for a temporary one deleted on close
 * @param defaultPartitions partitions of topics created without an explicit count
 * @param autoCreateTopics whether producers and consumers may create topics by using them
 * @param startupTimeout how long {@link EmbeddedKafkaBroker#start()} waits for the broker to serve
 * @param brokerProperties extra broker configuration, applied over the single-node defaults
 */
public record EmbeddedKafkaConfig(
    int brokerPort,
    int controllerPort,
    int nodeId,
    @Nullable Path logDir,
    int defaultPartitions,
    boolean autoCreateTopics,
    Duration startupTimeout,
    Map<String, String> brokerProperties) {

  /**
   * Broker settings the embedded broker derives from the other fields: overriding them through
   * {@link #brokerProperties} would silently break the single-node KRaft wiring, so it is refused.
   */
  public static final Set<String> RESERVED_PROPERTIES =
      Collections.unmodifiableSet(
          new TreeSet<>(
              Set.of(
                  "process.roles",
                  "node.id",
                  "listeners",
                  "advertised.listeners",
                  "listener.security.protocol.map",
                  "inter.broker.listener.name",
                  "controller.listener.names",
                  "controller.quorum.voters",
                  "controller.quorum.bootstrap.servers",
                  "log.dirs",
                  "log.dir",
                  "metadata.log.dir",
                  "num.partitions",
                  "auto.create.topics.enable")));

  /** Validates every field; {@code brokerProperties} is copied. */
  public EmbeddedKafkaConfig {
    checkPort("brokerPort", brokerPort);
    checkPort("controllerPort", controllerPort);
    if (brokerPort != 0 && brokerPort == controllerPort) {
      throw new IllegalArgumentException(
          "brokerPort and controllerPort must differ, both were " + brokerPort);
    }
    if (nodeId < 0) {
      throw new IllegalArgumentException("nodeId must be >= 0, was " + nodeId);
    }
    if (defaultPartitions <= 0) {
      throw new IllegalArgumentException("defaultPartitions must be > 0, was " + defaultPartitions);
    }
    if (startupTimeout.isNegative() || startupTimeout.isZero()) {
      throw new IllegalArgumentException("startupTimeout must be > 0, was " + startupTimeout);
    }
    Set<String> reserved = new TreeSet<>(brokerProperties.keySet());
    reserved.retainAll(RESERVED_PROPERTIES);
    if (!reserved.isEmpty()) {
      throw new IllegalArgumentException(
          "brokerProperties must not set "
              + reserved
              + ": the embedded broker derives them (reserved: "
              + RESERVED_PROPERTIES
              + ")");
    }
    brokerProperties = Collections.unmodifiableMap(new LinkedHashMap<>(brokerProperties));
  }

  /** The defaults: free ports, temporary log dir, one partition per topic, no auto-creation. */
  public static EmbeddedKafkaConfig defaults() {
    return builder().build();
  }

  /** A builder starting from {@link #defaults()}. */
  public static Builder builder() {
    return new Builder();
  }

  private static void checkPort(String name, int port) {
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException(
          name + " must be in [0, 65535] (0 = pick a free port), was " + port);
    }
  }

  /** Mutable builder for {@link EmbeddedKafkaConfig}; not thread-safe. */
  public static final class Builder {
    private int brokerPort;
    private int controllerPort;
    private int nodeId = 1;
    private @Nullable Path logDir;
    private int defaultPartitions = 1;
    private boolean autoCreateTopics;
    private Duration startupTimeout = Duration.ofSeconds(60);
    private final Map<String, String> brokerProperties = new LinkedHashMap<>();

    private Builder() {}

    /** Client listener port; 0 (the default) picks a free one. */
    public Builder brokerPort(int port) {
      this.brokerPort = port;
      return this;
    }

    /** Controller listener port; 0 (the default) picks a free one. */
    public Builder controllerPort(int port) {
      this.controllerPort = port;
      return this;
    }

    /** KRaft node id (default 1). */
    public Builder nodeId(int id) {
      this.nodeId = id;
      return this;
    }

    /** A persistent data directory, kept on close and reused if already formatted. */
    public Builder logDir(Path dir) {
      this.logDir = dir;
      return this;
    }

    /** Partitions of topics created without an explicit count (default 1). */
    public Builder defaultPartitions(int partitions) {
      this.defaultPartitions = partitions;
      return this;
    }

    /** Whether topics are created on first use (default false). */
    public Builder autoCreateTopics(boolean enabled) {
      this.autoCreateTopics = enabled;
      return this;
    }

    /** How long start waits for the broker to serve requests (default 60 s). */
    public Builder startupTimeout(Duration timeout) {
      this.startupTimeout = timeout;
      return this;
    }

    /** One extra broker setting, overriding the single-node default of the same name. */
    public Builder brokerProperty(String name, String value) {
      brokerProperties.put(name, value);
      return this;
    }

    /** Extra broker settings, overriding the single-node defaults of the same names. */
    public Builder brokerProperties(Map<String, String> properties) {
      brokerProperties.putAll(properties);
      return this;
    }

    /**
     * The validated configuration.
     *
     * @throws IllegalArgumentException naming the first invalid field
     */
    public EmbeddedKafkaConfig build() {
      return new EmbeddedKafkaConfig(
          brokerPort,
          controllerPort,
          nodeId,
          logDir,
          defaultPartitions,
          autoCreateTopics,
          startupTimeout,
          brokerProperties);
    }
  }
}
