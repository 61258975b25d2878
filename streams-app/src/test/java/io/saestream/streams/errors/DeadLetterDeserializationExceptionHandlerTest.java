package io.saestream.streams.errors;

import static io.saestream.streams.errors.SaeProcessingExceptionHandlerTest.header;
import static org.assertj.core.api.Assertions.assertThat;

import io.saestream.schema.registry.SchemaRegistryException;
import io.saestream.schema.serde.WireFormat;
import io.saestream.schema.serde.WireFormatException;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.junit.jupiter.api.Test;

class DeadLetterDeserializationExceptionHandlerTest {

  private final byte[] value = {9, 9};
  private final ConsumerRecord<byte[], byte[]> record =
      new ConsumerRecord<>("activations", 1, 7, new byte[] {1}, value);
  private final FakeErrorHandlerContext context =
      new FakeErrorHandlerContext(new byte[] {1}, value);

  private DeadLetterDeserializationExceptionHandler configured() {
    DeadLetterDeserializationExceptionHandler handler =
        new DeadLetterDeserializationExceptionHandler();
    handler.configure(Map.of(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, "dlq"));
    return handler;
  }

  @Test
  void undecodableRecordIsDeadLetteredAndProcessingResumes() {
    DeserializationExceptionHandler.Response response =
        configured().handleError(context, record, wireFormatFailure());

    assertThat(response.result()).isEqualTo(DeserializationExceptionHandler.Result.RESUME);
    ProducerRecord<byte[], byte[]> letter = response.deadLetterQueueRecords().get(0);
    assertThat(letter.topic()).isEqualTo("dlq");
    assertThat(letter.value()).isEqualTo(value);
    assertThat(header(letter, DeadLetterHeaders.REASON)).isEqualTo("UNDECODABLE");
    assertThat(header(letter, DeadLetterHeaders.SOURCE_PARTITION)).isEqualTo("1");
    assertThat(header(letter, DeadLetterHeaders.SOURCE_OFFSET)).isEqualTo("7");
  }

  @Test
  void registryOutageFailsTheThread() {
    assertThat(
            configured()
                .handleError(
                    context, record, new SchemaRegistryException("down", new java.io.IOException()))
                .result())
        .isEqualTo(DeserializationExceptionHandler.Result.FAIL);
  }

  private static WireFormatException wireFormatFailure() {
    try {
      WireFormat.schemaIdOf(new byte[] {5});
    } catch (WireFormatException e) {
      return e;
    }
    throw new AssertionError("expected a WireFormatException");
  }
}
