package io.saestream.embedded.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EmbeddedKafkaConfigTest {

  @Test
  void defaultsPickFreePortsUseATemporaryDirAndDisableAutoCreation() {
    EmbeddedKafkaConfig c = EmbeddedKafkaConfig.defaults();

    assertThat(c.brokerPort()).isZero();
    assertThat(c.controllerPort()).isZero();
    assertThat(c.nodeId()).isEqualTo(1);
    assertThat(c.logDir()).isNull();
    assertThat(c.defaultPartitions()).isEqualTo(1);
    assertThat(c.autoCreateTopics()).isFalse();
    assertThat(c.startupTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(c.brokerProperties()).isEmpty();
  }

  @Test
  void builderSetsEveryField() {
    EmbeddedKafkaConfig c =
        EmbeddedKafkaConfig.builder()
            .brokerPort(19092)
            .controllerPort(19093)
            .nodeId(7)
            .logDir(Path.of("/tmp/kafka-data"))
            .defaultPartitions(4)
            .autoCreateTopics(true)
            .startupTimeout(Duration.ofSeconds(5))
            .brokerProperty("log.retention.ms", "1000")
            .brokerProperties(Map.of("message.max.bytes", "2097152"))
            .build();

    assertThat(c.brokerPort()).isEqualTo(19092);
    assertThat(c.controllerPort()).isEqualTo(19093);
    assertThat(c.nodeId()).isEqualTo(7);
    assertThat(c.logDir()).isEqualTo(Path.of("/tmp/kafka-data"));
    assertThat(c.defaultPartitions()).isEqualTo(4);
    assertThat(c.autoCreateTopics()).isTrue();
    assertThat(c.startupTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.brokerProperties())
        .containsExactly(
            Map.entry("log.retention.ms", "1000"), Map.entry("message.max.bytes", "2097152"));
  }

  @Test
  void brokerPropertiesAreCopiedAndUnmodifiable() {
    Map<String, String> extra = new HashMap<>(Map.of("log.retention.ms", "1000"));
    EmbeddedKafkaConfig c = EmbeddedKafkaConfig.builder().brokerProperties(extra).build();
    extra.put("log.retention.ms", "2000");

    assertThat(c.brokerProperties()).containsEntry("log.retention.ms", "1000");
    assertThatThrownBy(() -> c.brokerProperties().put("x", "y"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void rejectsNegativeBrokerPort() {
    assertThatThrownBy(() -> EmbeddedKafkaConfig.builder().brokerPort(-1).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("brokerPort must be in [0, 65535] (0 = pick a free port), was -1");
  }

  @Test
  void rejectsControllerPortAbove65535() {
    assertThatThrownBy(() -> EmbeddedKafkaConfig.builder().controllerPort(65_536).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("controllerPort must be in [0, 65535] (0 = pick a free port), was 65536");
  }

  @Test
  void rejectsTheSameExplicitPortForBothListeners() {
    assertThatThrownBy(
            () -> EmbeddedKafkaConfig.builder().brokerPort(19092).controllerPort(19092).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("brokerPort and controllerPort must differ, both were 19092");
  }

  @Test
  void allowsBothPortsToBePickedAutomatically() {
    EmbeddedKafkaConfig c = EmbeddedKafkaConfig.builder().brokerPort(0).controllerPort(0).build();

    assertThat(c.brokerPort()).isEqualTo(c.controllerPort()).isZero();
  }

  @Test
  void rejectsNegativeNodeId() {
    assertThatThrownBy(() -> EmbeddedKafkaConfig.builder().nodeId(-2).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("nodeId must be >= 0, was -2");
  }

  @Test
  void rejectsNonPositiveDefaultPartitions() {
    assertThatThrownBy(() -> EmbeddedKafkaConfig.builder().defaultPartitions(0).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("defaultPartitions must be > 0, was 0");
  }

  @Test
  void rejectsZeroStartupTimeout() {
    assertThatThrownBy(() -> EmbeddedKafkaConfig.builder().startupTimeout(Duration.ZERO).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("startupTimeout must be > 0, was PT0S");
  }

  @Test
  void rejectsNegativeStartupTimeout() {
    assertThatThrownBy(
            () -> EmbeddedKafkaConfig.builder().startupTimeout(Duration.ofSeconds(-1)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("startupTimeout must be > 0, was PT-1S");
  }

  @Test
  void rejectsBrokerPropertiesThatWouldBreakTheKraftWiring() {
    assertThatThrownBy(
            () ->
                EmbeddedKafkaConfig.builder()
                    .brokerProperty("log.retention.ms", "1000")
                    .brokerProperty("node.id", "3")
                    .brokerProperty("listeners", "PLAINTEXT://:9092")
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("brokerProperties must not set [listeners, node.id]")
        .hasMessageContaining("controller.quorum.voters");
  }
}
