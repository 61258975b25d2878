package io.saestream.embedded.kafka;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class EmbeddedKafkaExtensionTest {

  @Test
  void brokerBeforeTheClassStartedExplainsHowToRegisterTheExtension() {
    EmbeddedKafkaExtension extension = EmbeddedKafkaExtension.perClass();

    assertThatThrownBy(extension::broker)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("static field with @RegisterExtension");
  }
}
