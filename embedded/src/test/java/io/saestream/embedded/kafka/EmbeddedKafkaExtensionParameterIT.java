package io.saestream.embedded.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code @ExtendWith} gives the shared broker and injects it into lifecycle and test methods. */
@ExtendWith(EmbeddedKafkaExtension.class)
class EmbeddedKafkaExtensionParameterIT {

  @BeforeAll
  static void brokerIsRunningBeforeAll(EmbeddedKafkaBroker broker) {
    assertThat(broker.isRunning()).isTrue();
  }

  @Test
  void injectedBrokerServesClients(EmbeddedKafkaBroker broker) {
    broker.createTopic("extension.injected");

    assertThat(broker.bootstrapServers()).startsWith("localhost:");
  }
}
