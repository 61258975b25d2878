package io.saestream.streams.errors;

import static org.assertj.core.api.Assertions.assertThat;

import io.saestream.schema.registry.SchemaRegistryException;
import io.saestream.streams.inference.InferenceException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.Test;

class SaeProcessingExceptionHandlerTest {

  private final byte[] key = "k".getBytes(StandardCharsets.UTF_8);
  private final byte[] value = {0, 1, 2};
  private final FakeErrorHandlerContext context = new FakeErrorHandlerContext(key, value);
  private final Record<byte[], byte[]> record = new Record<>(key, value, 1_000);

  private SaeProcessingExceptionHandler configured() {
    SaeProcessingExceptionHandler handler = new SaeProcessingExceptionHandler();
    handler.configure(Map.of(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, "dlq"));
    return handler;
  }

  @Test
  void aDefectTriggeredByOneRecordDeadLettersItAndResumes() {
    context.headers().add("tenant", "acme".getBytes(StandardCharsets.UTF_8));

    ProcessingExceptionHandler.Response response =
        configured().handleError(context, record, new ArithmeticException("/ by zero"));

    assertThat(response.result()).isEqualTo(ProcessingExceptionHandler.Result.RESUME);
    assertThat(response.deadLetterQueueRecords()).hasSize(1);
    ProducerRecord<byte[], byte[]> letter = response.deadLetterQueueRecords().get(0);
    assertThat(letter.topic()).isEqualTo("dlq");
    assertThat(letter.key()).isEqualTo(key);
    assertThat(letter.value()).isEqualTo(value);
    assertThat(header(letter, DeadLetterHeaders.REASON)).isEqualTo("PROCESSING_FAILED");
    assertThat(header(letter, DeadLetterHeaders.MESSAGE)).isEqualTo("/ by zero");
    assertThat(header(letter, DeadLetterHeaders.EXCEPTION))
        .isEqualTo("java.lang.ArithmeticException");
    assertThat(header(letter, DeadLetterHeaders.SOURCE_TOPIC)).isEqualTo("activations");
    assertThat(header(letter, DeadLetterHeaders.SOURCE_PARTITION)).isEqualTo("3");
    assertThat(header(letter, DeadLetterHeaders.SOURCE_OFFSET)).isEqualTo("42");
    assertThat(header(letter, "tenant")).isEqualTo("acme");
  }

  @Test
  void infrastructureFailuresFailTheThread() {
    SaeProcessingExceptionHandler handler = configured();
    assertThat(handler.handleError(context, record, new InferenceException("ORT")).result())
        .isEqualTo(ProcessingExceptionHandler.Result.FAIL);
    assertThat(
            handler
                .handleError(
                    context,
                    record,
                    new SchemaRegistryException("down", new java.io.IOException("refused")))
                .result())
        .isEqualTo(ProcessingExceptionHandler.Result.FAIL);
  }

  @Test
  void withoutADeadLetterTopicEveryFailureFails() {
    SaeProcessingExceptionHandler handler = new SaeProcessingExceptionHandler();
    handler.configure(Map.of());
    assertThat(handler.handleError(context, record, new ArithmeticException()).result())
        .isEqualTo(ProcessingExceptionHandler.Result.FAIL);
  }

  static String header(ProducerRecord<byte[], byte[]> record, String name) {
    org.apache.kafka.common.header.Header header = record.headers().lastHeader(name);
    if (header == null) {
      throw new AssertionError("no header " + name);
    }
    return new String(header.value(), StandardCharsets.UTF_8);
  }
}
