package io.saestream.synthetic.produce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.schema.v1.ActivationBatch;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

class SyntheticProducerTest {

  private static final String TOPIC = "sae.activations.v1";

  /** The value's bytes do not matter here; the IT covers the real serializer. */
  private static final Serializer<ActivationBatch> OPAQUE = (topic, batch) -> new byte[] {1};

  private final FakeTime time = new FakeTime();

  private static MockProducer<String, ActivationBatch> mock(boolean autoComplete) {
    return new MockProducer<>(autoComplete, null, new StringSerializer(), OPAQUE);
  }

  @Test
  void sendsTheRequestedCountKeyedBySequenceWithProducedAtTimestamps() {
    MockProducer<String, ActivationBatch> mock = mock(true);
    try (SyntheticProducer producer = new SyntheticProducer(TOPIC, mock, time)) {
      ProduceSummary summary =
          producer.run(TestBatches.generated(1), ProduceLimits.unlimited().withMaxRecords(25));
      assertThat(summary.records()).isEqualTo(25);
      assertThat(summary.tokens()).isEqualTo(25 * 16);
      assertThat(summary.dataBytes()).isEqualTo(25 * 16 * 8 * 4);
    }
    List<ProducerRecord<String, ActivationBatch>> sent = mock.history();
    assertThat(sent).hasSize(25);
    for (ProducerRecord<String, ActivationBatch> record : sent) {
      assertThat(record.topic()).isEqualTo(TOPIC);
      assertThat(record.key()).isEqualTo(record.value().getSequenceId());
      assertThat(record.timestamp()).isEqualTo(record.value().getProducedAt().toEpochMilli());
      assertThat(record.value().getAttributes()).containsEntry("tenant", "t1");
    }
    assertThat(mock.flushed()).isTrue();
    assertThat(mock.closed()).isTrue();
  }

  @Test
  void pacesToTheRequestedTokenRate() {
    try (SyntheticProducer producer = new SyntheticProducer(TOPIC, mock(true), time)) {
      ProduceSummary summary =
          producer.run(
              TestBatches.generated(1),
              ProduceLimits.unlimited().withMaxRecords(20).withTokensPerSecond(100));
      // Record k (16 tokens each) may go once 16k tokens fit 100 tokens/s: the last one at 3.04 s.
      assertThat(time.waitedNanos()).isEqualTo(3_040_000_000L);
      assertThat(summary.elapsed()).isEqualTo(Duration.ofMillis(3040));
      assertThat(summary.tokensPerSecond())
          .isCloseTo(320 / 3.04, org.assertj.core.api.Assertions.within(1e-9));
    }
  }

  @Test
  void stopsWhenTheDurationIsUp() {
    try (SyntheticProducer producer = new SyntheticProducer(TOPIC, mock(true), time)) {
      ProduceSummary summary =
          producer.run(
              TestBatches.generated(1),
              new ProduceLimits(ProduceLimits.UNLIMITED, Duration.ofSeconds(1), 100));
      // Records are due at 0, 0.16, …, 0.96 s: seven fit in one second.
      assertThat(summary.records()).isEqualTo(7);
      assertThat(summary.elapsed()).isEqualTo(Duration.ofSeconds(1));
    }
  }

  @Test
  void stopsWhenTheDurationIsUpWithoutPacing() {
    try (SyntheticProducer producer = new SyntheticProducer(TOPIC, mock(true), time)) {
      BatchSource slow = TestBatches.generated(1);
      BatchSource clocked =
          new BatchSource() {
            @Override
            public @Nullable ActivationBatch next() {
              time.advance(300_000_000L); // each record takes 300 ms to make
              return slow.next();
            }
          };
      ProduceSummary summary =
          producer.run(
              clocked, new ProduceLimits(ProduceLimits.UNLIMITED, Duration.ofSeconds(1), 0));
      assertThat(summary.records()).isEqualTo(4);
    }
  }

  @Test
  void stopsWhenTheSourceIsExhausted() {
    try (SyntheticProducer producer = new SyntheticProducer(TOPIC, mock(true), time)) {
      BatchSource three = TestBatches.withHook(TestBatches.generated(1), 3, () -> {});
      BatchSource limited =
          new BatchSource() {
            private int left = 3;

            @Override
            public @Nullable ActivationBatch next() {
              return left-- > 0 ? three.next() : null;
            }
          };
      assertThat(producer.run(limited, ProduceLimits.unlimited()).records()).isEqualTo(3);
    }
  }

  @Test
  void stopFromAnotherThreadEndsTheRunAfterFlushing() {
    MockProducer<String, ActivationBatch> mock = mock(true);
    try (SyntheticProducer producer = new SyntheticProducer(TOPIC, mock, time)) {
      BatchSource source = TestBatches.withHook(TestBatches.generated(1), 5, producer::stop);
      ProduceSummary summary = producer.run(source, ProduceLimits.unlimited());
      // The hook fires while record 5 is being made; that record still goes out.
      assertThat(summary.records()).isEqualTo(6);
      assertThat(mock.history()).hasSize(6);
      assertThat(mock.flushed()).isTrue();
    }
  }

  @Test
  void aFailedSendEndsTheRunWithTheCause() {
    MockProducer<String, ActivationBatch> mock = mock(false);
    try (SyntheticProducer producer = new SyntheticProducer(TOPIC, mock, time)) {
      BatchSource source =
          TestBatches.withHook(
              TestBatches.generated(1),
              2,
              () -> mock.errorNext(new KafkaException("broker said no")));
      assertThatThrownBy(() -> producer.run(source, ProduceLimits.unlimited()))
          .isInstanceOf(KafkaException.class)
          .hasMessage("writing to topic sae.activations.v1 failed: broker said no");
      // Two sent before the failure surfaced, one more in flight when it did; nothing after.
      assertThat(mock.history()).hasSize(3);
    }
  }

  @Test
  void aSerializationFailurePropagates() {
    Serializer<ActivationBatch> broken =
        (topic, batch) -> {
          throw new SerializationException("no registry");
        };
    MockProducer<String, ActivationBatch> mock =
        new MockProducer<>(true, null, new StringSerializer(), broken);
    try (SyntheticProducer producer = new SyntheticProducer(TOPIC, mock, time)) {
      assertThatThrownBy(() -> producer.run(TestBatches.generated(1), ProduceLimits.unlimited()))
          .isInstanceOf(SerializationException.class)
          .hasMessage("no registry");
    }
  }

  @Test
  void aClosedProducerRefusesToRunAndClosesOnce() {
    MockProducer<String, ActivationBatch> mock = mock(true);
    SyntheticProducer producer = new SyntheticProducer(TOPIC, mock, time);
    producer.close();
    producer.close();
    assertThat(mock.closed()).isTrue();
    assertThatThrownBy(() -> producer.run(TestBatches.generated(1), ProduceLimits.unlimited()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("producer is closed");
  }

  @Test
  void aRunThatIsAlreadyInProgressCannotStartAgain() {
    try (SyntheticProducer producer = new SyntheticProducer(TOPIC, mock(true), time)) {
      BatchSource reentrant =
          TestBatches.withHook(
              TestBatches.generated(1),
              0,
              () ->
                  assertThatThrownBy(
                          () -> producer.run(TestBatches.generated(2), ProduceLimits.unlimited()))
                      .isInstanceOf(IllegalStateException.class)
                      .hasMessage("producer is already running"));
      assertThat(producer.run(reentrant, ProduceLimits.unlimited().withMaxRecords(1)).records())
          .isEqualTo(1);
    }
  }
}
