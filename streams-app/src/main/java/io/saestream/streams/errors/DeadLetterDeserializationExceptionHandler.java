package io.saestream.streams.errors;

import io.saestream.schema.serde.UnknownSchemaIdException;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka Streams' {@code deserialization.exception.handler}: a record whose key or value a source
 * cannot deserialize goes to the dead-letter topic ({@code errors.dead.letter.queue.topic.name})
 * with reason {@link DeadLetterReason#UNDECODABLE} (or {@link DeadLetterReason#UNKNOWN_SCHEMA_ID})
 * and processing resumes; infrastructure failures (the registry unreachable) fail the thread.
 *
 * <p>The sae-stream topology reads raw bytes and decodes inside its first processor, where the
 * precise reason is known, so this handler only guards sources added later with typed serdes.
 * Thread-safe after configuration.
 */
public final class DeadLetterDeserializationExceptionHandler
    implements DeserializationExceptionHandler {

  private static final Logger LOG =
      LoggerFactory.getLogger(DeadLetterDeserializationExceptionHandler.class);

  private @Nullable String deadLetterTopic;

  @Override
  public void configure(Map<String, ?> configs) {
    Object topic = configs.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
    this.deadLetterTopic = topic == null ? null : topic.toString();
  }

  @Override
  public Response handleError(
      ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
    String topic = deadLetterTopic;
    if (Failures.isInfrastructure(exception) || topic == null) {
      LOG.error(
          "Failing stream thread: cannot deserialize {}-{}@{}",
          record.topic(),
          record.partition(),
          record.offset(),
          exception);
      return Response.fail();
    }
    DeadLetterReason reason =
        exception instanceof UnknownSchemaIdException
            ? DeadLetterReason.UNKNOWN_SCHEMA_ID
            : DeadLetterReason.UNDECODABLE;
    LOG.warn(
        "Record {}-{}@{} sent to dead-letter topic {}: {}",
        record.topic(),
        record.partition(),
        record.offset(),
        topic,
        exception.getMessage());
    RecordHeaders headers = new RecordHeaders(record.headers().toArray());
    DeadLetterHeaders.append(
        headers,
        DeadLetter.of(reason, exception),
        record.topic(),
        record.partition(),
        record.offset());
    return Response.resume(
        List.of(new ProducerRecord<>(topic, null, record.key(), record.value(), headers)));
  }
}
