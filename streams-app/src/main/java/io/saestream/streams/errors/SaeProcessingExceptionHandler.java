package io.saestream.streams.errors;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka Streams' {@code processing.exception.handler}: decides about exceptions that escape a
 * processor. The processors turn every bad-input condition they know into a dead letter themselves,
 * so what reaches this handler is either infrastructure ({@link Failures#isInfrastructure}: answer
 * FAIL, the stream thread dies and the uncaught-exception handler decides) or a defect triggered by
 * one record (answer RESUME with the original record on the dead-letter topic, reason {@link
 * DeadLetterReason#PROCESSING_FAILED}, so that it can be replayed after a fix). Kafka Streams
 * counts resumed records in its {@code dropped-records} task metric.
 *
 * <p>Instantiated and configured by Kafka Streams; the dead-letter topic comes from {@code
 * errors.dead.letter.queue.topic.name}. Stateless after configuration, thread-safe.
 */
public final class SaeProcessingExceptionHandler implements ProcessingExceptionHandler {

  private static final Logger LOG = LoggerFactory.getLogger(SaeProcessingExceptionHandler.class);

  private @Nullable String deadLetterTopic;

  /** Reads the dead-letter topic; without one, defects fail the thread like infrastructure. */
  @Override
  public void configure(Map<String, ?> configs) {
    Object topic = configs.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
    this.deadLetterTopic = topic == null ? null : topic.toString();
  }

  @Override
  public Response handleError(
      ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
    String topic = deadLetterTopic;
    if (Failures.isInfrastructure(exception) || topic == null) {
      LOG.error(
          "Failing stream thread: processor {} of task {} failed on {}-{}@{}",
          context.processorNodeId(),
          context.taskId(),
          context.topic(),
          context.partition(),
          context.offset(),
          exception);
      return Response.fail();
    }
    LOG.warn(
        "Record {}-{}@{} sent to dead-letter topic {}: processor {} failed unexpectedly",
        context.topic(),
        context.partition(),
        context.offset(),
        topic,
        context.processorNodeId(),
        exception);
    return Response.resume(List.of(deadLetterRecord(topic, context, exception)));
  }

  static ProducerRecord<byte[], byte[]> deadLetterRecord(
      String topic, ErrorHandlerContext context, Exception exception) {
    RecordHeaders headers = new RecordHeaders(context.headers().toArray());
    DeadLetterHeaders.append(
        headers,
        DeadLetter.of(DeadLetterReason.PROCESSING_FAILED, exception),
        context.topic(),
        context.partition(),
        context.offset());
    return new ProducerRecord<>(
        topic, null, context.sourceRawKey(), context.sourceRawValue(), headers);
  }
}
