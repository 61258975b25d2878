package io.saestream.streams.errors;

import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka Streams' {@code production.exception.handler}: a record the app could not write (an output,
 * the aggregates topic, a changelog) is an infrastructure failure, never bad input, so the answer
 * is FAIL (the transaction aborts, nothing is lost; the uncaught-exception handler decides about
 * the thread) or RETRY for a retriable error, as Kafka's default handler does. Unlike that default,
 * it never builds a dead-letter record from the failed write: with a dead-letter topic configured,
 * Kafka Streams 4.4's default did so for changelog writes too, whose context has no timestamp, and
 * its own IllegalArgumentException then hid the cause. The cause is logged with the topic and, for
 * a record over a topic's limit, the setting to raise.
 *
 * <p>Instantiated and configured by Kafka Streams. Stateless, thread-safe.
 */
public final class SaeProductionExceptionHandler implements ProductionExceptionHandler {

  private static final Logger LOG = LoggerFactory.getLogger(SaeProductionExceptionHandler.class);

  @Override
  public void configure(Map<String, ?> configs) {}

  @Override
  public Response handleError(
      ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception exception) {
    if (exception instanceof RetriableException) {
      LOG.warn("Retrying a write to {}: {}", record.topic(), exception.toString());
      return Response.retry();
    }
    LOG.error(
        "Cannot write a record of {} bytes to {} (task {}, processor {}){}",
        size(record),
        record.topic(),
        context.taskId(),
        context.processorNodeId(),
        exception instanceof RecordTooLargeException
            ? "; raise max.message.bytes of that topic (and producer.max.request.size if the"
                + " record is over it)"
            : "",
        exception);
    return Response.fail();
  }

  @Override
  @SuppressWarnings("rawtypes") // the interface declares the record raw
  public Response handleSerializationError(
      ErrorHandlerContext context,
      ProducerRecord record,
      Exception exception,
      SerializationExceptionOrigin origin) {
    LOG.error(
        "Cannot serialize the {} of a record for {} (task {}, processor {})",
        origin == SerializationExceptionOrigin.KEY ? "key" : "value",
        record.topic(),
        context.taskId(),
        context.processorNodeId(),
        exception);
    return Response.fail();
  }

  private static long size(ProducerRecord<byte[], byte[]> record) {
    byte[] key = record.key();
    byte[] value = record.value();
    return (key == null ? 0L : key.length) + (value == null ? 0L : value.length);
  }
}
