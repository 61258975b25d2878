package io.saestream.streams.containers;

import io.saestream.streams.it.StreamsAppScenarios;
import io.saestream.streams.testing.SaeStreamCluster;
import java.nio.file.Path;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The exactly-once scenarios of {@link io.saestream.streams.it.StreamsAppIT} (mixed good and bad
 * batches; a second instance joining mid-stream) on the official Apache Kafka image in KRaft mode,
 * started by Testcontainers, with the in-JVM schema registry. Skipped when no Docker engine is
 * reachable (the build machines have none): every test then reports itself skipped, quickly and
 * without starting anything; the in-JVM broker variant always runs.
 *
 * <p>The container is started once for the class and stopped after it.
 */
class KafkaContainerStreamsAppIT {

  /** An official apache/kafka tag: a KRaft combined broker and controller. */
  static final DockerImageName KAFKA_IMAGE = DockerImageName.parse("apache/kafka:4.1.0");

  private static boolean dockerAvailable;
  private static @Nullable KafkaContainer kafka;
  private static @Nullable SaeStreamCluster cluster;
  private static @Nullable StreamsAppScenarios scenarios;

  @TempDir Path stateDirs;

  @BeforeAll
  static void startKafka() {
    dockerAvailable = DockerClientFactory.instance().isDockerAvailable();
    if (!dockerAvailable) {
      return; // each test reports itself skipped, with the reason
    }
    // Testcontainers configures a single-node cluster: replication factor 1 for the offsets and
    // transaction-state topics (exactly-once needs the latter) and no initial rebalance delay.
    KafkaContainer container =
        new KafkaContainer(KAFKA_IMAGE).withStartupTimeout(Duration.ofMinutes(2));
    kafka = container;
    container.start();
    SaeStreamCluster started = SaeStreamCluster.onBroker(container.getBootstrapServers());
    cluster = started;
    scenarios = new StreamsAppScenarios(started);
  }

  @AfterAll
  static void stopKafka() {
    if (cluster != null) {
      cluster.close();
    }
    if (kafka != null) {
      kafka.stop();
    }
  }

  @BeforeEach
  void requireDocker() {
    Assumptions.assumeTrue(
        dockerAvailable,
        "no Docker engine reachable (Testcontainers found none); StreamsAppIT runs these"
            + " scenarios on the in-JVM broker");
  }

  @Test
  void goodAndBadBatchesEachEndUpExactlyOnceInTheirTopic() throws Exception {
    started().goodAndBadBatchesEachEndUpExactlyOnceInTheirTopic(stateDirs);
  }

  @Test
  void aSecondInstanceJoiningMidStreamLosesAndDuplicatesNothing() throws Exception {
    started().aSecondInstanceJoiningMidStreamLosesAndDuplicatesNothing(stateDirs);
  }

  private static StreamsAppScenarios started() {
    StreamsAppScenarios s = scenarios;
    if (s == null) {
      throw new IllegalStateException("Docker is available but the Kafka container did not start");
    }
    return s;
  }
}
