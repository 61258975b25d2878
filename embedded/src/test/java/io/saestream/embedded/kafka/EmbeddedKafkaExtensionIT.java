package io.saestream.embedded.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Lifetimes of the brokers the extension hands out. */
class EmbeddedKafkaExtensionIT {

  @RegisterExtension
  static final EmbeddedKafkaExtension PER_CLASS =
      EmbeddedKafkaExtension.perClass(EmbeddedKafkaConfig.builder().defaultPartitions(2).build());

  @RegisterExtension static final EmbeddedKafkaExtension SHARED = EmbeddedKafkaExtension.shared();

  @RegisterExtension
  static final EmbeddedKafkaExtension SHARED_AGAIN = EmbeddedKafkaExtension.shared();

  private static @Nullable EmbeddedKafkaBroker brokerSeenInBeforeAll;

  @BeforeAll
  static void recordTheBroker() {
    brokerSeenInBeforeAll = PER_CLASS.broker();
  }

  @Test
  void perClassBrokerRunsWithItsOwnConfiguration() {
    assertThat(PER_CLASS.broker().isRunning()).isTrue();
    assertThat(PER_CLASS.broker().config().defaultPartitions()).isEqualTo(2);
    assertThat(PER_CLASS.bootstrapServers()).isEqualTo(PER_CLASS.broker().bootstrapServers());
  }

  @Test
  void sharedRegistrationsGetTheSameBrokerDistinctFromThePerClassOne() {
    assertThat(SHARED.broker()).isSameAs(SHARED_AGAIN.broker());
    assertThat(SHARED.broker().isRunning()).isTrue();
    assertThat(SHARED.broker()).isNotSameAs(PER_CLASS.broker());
  }

  @Nested
  class NestedTests {

    @Test
    void nestedClassesReuseTheEnclosingClassBroker() {
      assertThat(PER_CLASS.broker()).isSameAs(brokerSeenInBeforeAll);
      assertThat(PER_CLASS.broker().isRunning()).isTrue();
    }
  }
}
