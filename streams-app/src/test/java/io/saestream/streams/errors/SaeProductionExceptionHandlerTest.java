package io.saestream.streams.errors;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.Result;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.SerializationExceptionOrigin;
import org.junit.jupiter.api.Test;

/** A write the app cannot make fails the transaction; nothing becomes a dead letter. */
class SaeProductionExceptionHandlerTest {

  private final SaeProductionExceptionHandler handler = new SaeProductionExceptionHandler();
  private final FakeErrorHandlerContext context =
      new FakeErrorHandlerContext(new byte[] {1}, new byte[] {2});

  /** A changelog write: no timestamp, as Kafka Streams sends them. */
  private final ProducerRecord<byte[], byte[]> changelog =
      new ProducerRecord<>(
          "app-sae-latent-stats-deltas-changelog", 0, null, new byte[3], new byte[5]);

  @Test
  void aRecordTooLargeFailsWithoutADeadLetterEvenForAChangelogWrite() {
    var response =
        handler.handleError(context, changelog, new RecordTooLargeException("too large"));
    assertThat(response.result()).isEqualTo(Result.FAIL);
    assertThat(response.deadLetterQueueRecords()).isEmpty();
  }

  @Test
  void retriesWhatKafkaCallsRetriable() {
    var response =
        handler.handleError(context, changelog, new NotEnoughReplicasException("one replica"));
    assertThat(response.result()).isEqualTo(Result.RETRY);
  }

  @Test
  void aSerializerFailureFails() {
    var response =
        handler.handleSerializationError(
            context,
            new ProducerRecord<>("sae.features.v1", "k", "v"),
            new SerializationException("bad"),
            SerializationExceptionOrigin.VALUE);
    assertThat(response.result()).isEqualTo(Result.FAIL);
    assertThat(response.deadLetterQueueRecords()).isEmpty();
  }
}
