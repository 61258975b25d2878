package io.saestream.embedded.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import kafka.server.KafkaConfig;
import org.apache.kafka.server.config.AbstractKafkaConfig;
import org.junit.jupiter.api.Test;

class SingleNodeBrokerPropertiesTest {

  private static final Path DIR = Path.of("/tmp/embedded-kafka-test").toAbsolutePath();

  @Test
  void wiresOneCombinedBrokerAndControllerOnLocalhost() {
    EmbeddedKafkaConfig config = EmbeddedKafkaConfig.builder().nodeId(3).build();

    Map<String, String> p = SingleNodeBrokerProperties.of(config, 41001, 41002, DIR);

    assertThat(p)
        .containsEntry("process.roles", "broker,controller")
        .containsEntry("node.id", "3")
        .containsEntry("listeners", "PLAINTEXT://localhost:41001,CONTROLLER://localhost:41002")
        .containsEntry("advertised.listeners", "PLAINTEXT://localhost:41001")
        .containsEntry("controller.listener.names", "CONTROLLER")
        .containsEntry("controller.quorum.voters", "3@localhost:41002")
        .containsEntry("log.dirs", DIR.toString());
  }

  @Test
  void everyInternalTopicFitsOnOneNode() {
    Map<String, String> p =
        SingleNodeBrokerProperties.of(EmbeddedKafkaConfig.defaults(), 41001, 41002, DIR);

    assertThat(p)
        .containsEntry("default.replication.factor", "1")
        .containsEntry("min.insync.replicas", "1")
        .containsEntry("offsets.topic.replication.factor", "1")
        .containsEntry("transaction.state.log.replication.factor", "1")
        .containsEntry("transaction.state.log.min.isr", "1")
        .containsEntry("share.coordinator.state.topic.replication.factor", "1")
        .containsEntry("share.coordinator.state.topic.min.isr", "1")
        .containsEntry("group.initial.rebalance.delay.ms", "0")
        .containsEntry("auto.create.topics.enable", "false")
        .containsEntry("num.partitions", "1");
  }

  @Test
  void configFieldsAndExtraPropertiesOverrideTheDefaults() {
    EmbeddedKafkaConfig config =
        EmbeddedKafkaConfig.builder()
            .defaultPartitions(6)
            .autoCreateTopics(true)
            .brokerProperty("log.retention.ms", "5000")
            .brokerProperty("message.max.bytes", "4194304")
            .build();

    Map<String, String> p = SingleNodeBrokerProperties.of(config, 41001, 41002, DIR);

    assertThat(p)
        .containsEntry("num.partitions", "6")
        .containsEntry("auto.create.topics.enable", "true")
        .containsEntry("log.retention.ms", "5000")
        .containsEntry("message.max.bytes", "4194304");
  }

  @Test
  void everyPropertyIsABrokerSettingKafkaKnowsAndAccepts() {
    Map<String, String> p =
        SingleNodeBrokerProperties.of(EmbeddedKafkaConfig.defaults(), 41001, 41002, DIR);

    // A misspelt name would only be logged as unknown by the broker and silently not applied.
    assertThat(AbstractKafkaConfig.CONFIG_DEF.names()).containsAll(p.keySet());
    KafkaConfig kafkaConfig = new KafkaConfig(p, false);
    assertThat(kafkaConfig.nodeId()).isEqualTo(1);
    assertThat(kafkaConfig.metadataLogDir()).isEqualTo(DIR.toString());
  }
}
