package io.saestream.embedded.kafka;

import static io.saestream.embedded.kafka.EmbeddedKafkaBrokerIT.admin;
import static io.saestream.embedded.kafka.EmbeddedKafkaBrokerIT.consumeAtLeast;
import static io.saestream.embedded.kafka.EmbeddedKafkaBrokerIT.describe;
import static io.saestream.embedded.kafka.EmbeddedKafkaBrokerIT.producer;
import static io.saestream.embedded.kafka.EmbeddedKafkaBrokerIT.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Brokers started and stopped by the tests themselves. */
class EmbeddedKafkaBrokerLifecycleIT {

  @Test
  void twoBrokersRunSideBySideAsSeparateClusters() throws Exception {
    try (EmbeddedKafkaBroker first =
            new EmbeddedKafkaBroker(EmbeddedKafkaConfig.builder().defaultPartitions(3).build())
                .start();
        EmbeddedKafkaBroker second =
            new EmbeddedKafkaBroker(EmbeddedKafkaConfig.builder().autoCreateTopics(true).build())
                .start();
        Admin firstAdmin = admin(first);
        Admin secondAdmin = admin(second)) {
      assertThat(first.bootstrapServers()).isNotEqualTo(second.bootstrapServers());
      assertThat(
              Map.of(
                  first.brokerPort(), 1,
                  first.controllerPort(), 2,
                  second.brokerPort(), 3,
                  second.controllerPort(), 4))
          .as("four distinct ports")
          .hasSize(4);
      assertThat(firstAdmin.describeCluster().clusterId().get())
          .isNotEqualTo(secondAdmin.describeCluster().clusterId().get());

      first.createTopic("only-on-first");
      assertThat(describe(firstAdmin, "only-on-first").partitions()).hasSize(3);
      assertThat(secondAdmin.listTopics().names().get()).doesNotContain("only-on-first");

      try (KafkaProducer<String, String> producer = producer(second, Map.of())) {
        send(producer, "auto-created", "v");
      }
      assertThat(secondAdmin.listTopics().names().get()).contains("auto-created");
    }
  }

  @Test
  void closeReleasesBothPortsAndDeletesTheTemporaryLogDir() throws Exception {
    EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.withDefaults().start();
    int brokerPort = broker.brokerPort();
    int controllerPort = broker.controllerPort();
    Path logDir = broker.logDir();
    assertThat(logDir.resolve("meta.properties")).isRegularFile();

    broker.close();

    assertThat(broker.isRunning()).isFalse();
    assertThat(logDir).doesNotExist();
    assertPortIsFree(brokerPort);
    assertPortIsFree(controllerPort);
    broker.close(); // idempotent
    assertThatThrownBy(broker::bootstrapServers)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("broker is not running, it is CLOSED");
    assertThatThrownBy(broker::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("broker can only be started once, it is CLOSED");
  }

  @Test
  void persistentLogDirKeepsTopicsAndRecordsAcrossRestarts(@TempDir Path dir) throws Exception {
    EmbeddedKafkaConfig config = EmbeddedKafkaConfig.builder().logDir(dir).build();
    try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(config).start()) {
      broker.createTopic("durable", 1);
      try (KafkaProducer<String, String> producer = producer(broker, Map.of())) {
        send(producer, "durable", "before-restart");
      }
    }
    assertThat(dir.resolve("meta.properties")).isRegularFile();

    try (EmbeddedKafkaBroker restarted = new EmbeddedKafkaBroker(config).start()) {
      assertThat(
              consumeAtLeast(restarted, "durable", IsolationLevel.READ_UNCOMMITTED, 1).stream()
                  .map(ConsumerRecord::value))
          .containsExactly("before-restart");
    }
    assertThat(dir).isNotEmptyDirectory();
  }

  @Test
  void pickedPortTakenBeforeKafkaBindsItIsReplacedByAnother() throws Exception {
    try (ServerSocket squatter = bindLoopback(0)) {
      AtomicInteger picks = new AtomicInteger();
      // The first pick hands out a port someone else took meanwhile, as a race would.
      EmbeddedKafkaBroker broker =
          new EmbeddedKafkaBroker(
              EmbeddedKafkaConfig.defaults(),
              () ->
                  picks.getAndIncrement() == 0
                      ? squatter.getLocalPort()
                      : EmbeddedKafkaBroker.findFreePort());

      try (broker) {
        broker.start();

        assertThat(broker.brokerPort()).isNotEqualTo(squatter.getLocalPort());
        assertThat(picks).hasValueGreaterThanOrEqualTo(3);
        try (Admin admin = admin(broker)) {
          assertThat(admin.describeCluster().nodes().get()).hasSize(1);
        }
      }
    }
  }

  @Test
  void explicitPortInUseFailsStartWithTheBindError() throws Exception {
    try (ServerSocket squatter = bindLoopback(0)) {
      EmbeddedKafkaBroker broker =
          new EmbeddedKafkaBroker(
              EmbeddedKafkaConfig.builder().brokerPort(squatter.getLocalPort()).build());

      assertThatThrownBy(broker::start)
          .isInstanceOf(KafkaException.class)
          .hasMessageStartingWith(
              "Kafka broker failed to start on localhost:" + squatter.getLocalPort() + " ")
          .hasRootCauseInstanceOf(BindException.class);
      assertThat(broker.isRunning()).isFalse();
      broker.close();
      assertThatThrownBy(broker::start).isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void startupTimeoutStopsWaitingAndReleasesThePorts() throws Exception {
    int brokerPort = EmbeddedKafkaBroker.findFreePort();
    int controllerPort = EmbeddedKafkaBroker.findFreePort();
    EmbeddedKafkaBroker broker =
        new EmbeddedKafkaBroker(
            EmbeddedKafkaConfig.builder()
                .brokerPort(brokerPort)
                .controllerPort(controllerPort)
                .startupTimeout(Duration.ofMillis(1))
                .build());

    assertThatThrownBy(broker::start)
        .isInstanceOf(org.apache.kafka.common.errors.TimeoutException.class)
        .hasMessage(
            "Kafka broker on port " + brokerPort + " did not serve within " + Duration.ofMillis(1));
    assertThat(broker.isRunning()).isFalse();
    assertPortIsFree(brokerPort);
    assertPortIsFree(controllerPort);
  }

  private static ServerSocket bindLoopback(int port) throws IOException {
    ServerSocket socket = new ServerSocket();
    socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    return socket;
  }

  private static void assertPortIsFree(int port) throws IOException {
    try (ServerSocket socket = bindLoopback(port)) {
      assertThat(socket.getLocalPort()).isEqualTo(port);
    }
  }
}
