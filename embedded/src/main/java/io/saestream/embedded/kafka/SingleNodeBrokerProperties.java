package io.saestream.embedded.kafka;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Derives the broker configuration of a single-node KRaft cluster (one process that is both broker
 * and controller) from an {@link EmbeddedKafkaConfig} and the ports chosen at start. Stateless.
 */
final class SingleNodeBrokerProperties {

  static final String BROKER_LISTENER = "PLAINTEXT";
  static final String CONTROLLER_LISTENER = "CONTROLLER";
  static final String HOST = "localhost";

  private SingleNodeBrokerProperties() {}

  /**
   * The full broker configuration: KRaft wiring, then single-node defaults, then the user's extra
   * properties (which may override the defaults but not the wiring, see {@link
   * EmbeddedKafkaConfig#RESERVED_PROPERTIES}).
   */
  static Map<String, String> of(
      EmbeddedKafkaConfig config, int brokerPort, int controllerPort, Path logDir) {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("process.roles", "broker,controller");
    p.put("node.id", Integer.toString(config.nodeId()));
    p.put(
        "listeners",
        BROKER_LISTENER
            + "://"
            + HOST
            + ":"
            + brokerPort
            + ","
            + CONTROLLER_LISTENER
            + "://"
            + HOST
            + ":"
            + controllerPort);
    p.put("advertised.listeners", BROKER_LISTENER + "://" + HOST + ":" + brokerPort);
    p.put(
        "listener.security.protocol.map",
        BROKER_LISTENER + ":PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
    p.put("inter.broker.listener.name", BROKER_LISTENER);
    p.put("controller.listener.names", CONTROLLER_LISTENER);
    // A static voter set lets the lone controller elect itself without a dynamic-quorum bootstrap.
    p.put("controller.quorum.voters", config.nodeId() + "@" + HOST + ":" + controllerPort);
    p.put("log.dirs", logDir.toAbsolutePath().toString());
    p.put("num.partitions", Integer.toString(config.defaultPartitions()));
    p.put("auto.create.topics.enable", Boolean.toString(config.autoCreateTopics()));

    // Internal topics default to replication factor 3; one node can only hold one replica.
    p.put("default.replication.factor", "1");
    p.put("min.insync.replicas", "1");
    p.put("offsets.topic.replication.factor", "1");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    // 50 partitions per internal topic cost seconds of startup on first use and buy nothing here.
    p.put("offsets.topic.num.partitions", "1");
    p.put("transaction.state.log.num.partitions", "1");
    p.put("share.coordinator.state.topic.num.partitions", "1");
    // Tests and the demo start consumers right away; the 3 s join delay would only slow them.
    p.put("group.initial.rebalance.delay.ms", "0");

    // Small segments and a short retention keep a long-running demo's disk use bounded.
    p.put("log.segment.bytes", Integer.toString(16 * 1024 * 1024));
    p.put("log.retention.ms", Long.toString(60L * 60 * 1000));
    p.put("log.retention.check.interval.ms", Long.toString(60L * 1000));
    // The cleaner's default 128 MiB dedupe buffer is heap the tests need more.
    p.put("log.cleaner.dedupe.buffer.size", Integer.toString(8 * 1024 * 1024));
    // The default thread counts are sized for dedicated servers, not for a shared JVM.
    p.put("num.network.threads", "2");
    p.put("num.io.threads", "4");
    p.put("background.threads", "2");

    p.putAll(config.brokerProperties());
    return p;
  }
}
