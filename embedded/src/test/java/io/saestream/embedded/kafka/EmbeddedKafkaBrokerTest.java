package io.saestream.embedded.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lifecycle rules that need no running broker. */
class EmbeddedKafkaBrokerTest {

  @Test
  void accessorsBeforeStartThrow() {
    EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.withDefaults();

    assertThat(broker.isRunning()).isFalse();
    assertThatThrownBy(broker::bootstrapServers)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("broker is not running, it is NEW");
    assertThatThrownBy(broker::logDir).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> broker.createTopic("t"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("broker is not running, it is NEW");
  }

  @Test
  void closingANeverStartedBrokerPreventsStarting() {
    EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.withDefaults();

    broker.close();
    broker.close();

    assertThatThrownBy(broker::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("broker can only be started once, it is CLOSED");
  }

  @Test
  void invalidExtraBrokerPropertyFailsStartWithKafkasConfigError() {
    EmbeddedKafkaBroker broker =
        new EmbeddedKafkaBroker(
            EmbeddedKafkaConfig.builder().brokerProperty("log.segment.bytes", "tiny").build());

    assertThatThrownBy(broker::start)
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("log.segment.bytes");
    assertThat(broker.isRunning()).isFalse();
  }

  @Test
  void logDirWithMetaPropertiesButNoClusterIdIsRefused(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("meta.properties"), "version=1\nnode.id=1\n");
    EmbeddedKafkaBroker broker =
        new EmbeddedKafkaBroker(EmbeddedKafkaConfig.builder().logDir(dir).build());

    assertThatThrownBy(broker::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            dir.resolve("meta.properties")
                + " has no cluster.id: not a Kafka log dir formatted for KRaft");
    assertThat(dir.resolve("meta.properties")).exists();
  }

  @Test
  void freePortIsBindableAndInTheUnprivilegedRange() {
    int port = EmbeddedKafkaBroker.findFreePort();

    assertThat(port).isBetween(1024, 65_535);
  }
}
