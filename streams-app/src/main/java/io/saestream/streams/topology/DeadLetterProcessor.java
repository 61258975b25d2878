package io.saestream.streams.topology;

import io.saestream.streams.errors.DeadLetter;
import io.saestream.streams.errors.DeadLetterHeaders;
import io.saestream.streams.errors.DeadLetterMetrics;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a {@link Validated.Rejected} into the dead-letter record: the original key and value bytes,
 * the original headers plus {@link DeadLetterHeaders}, and the original timestamp; counts it in
 * {@link DeadLetterMetrics}. The single place where dead letters of the topology are written.
 *
 * <p>One instance per task, used by its stream thread only.
 */
final class DeadLetterProcessor implements Processor<byte[], Validated.Rejected, byte[], byte[]> {

  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterProcessor.class);

  private @Nullable ProcessorContext<byte[], byte[]> context;
  private @Nullable DeadLetterMetrics metrics;

  @Override
  public void init(ProcessorContext<byte[], byte[]> context) {
    this.context = context;
    this.metrics = DeadLetterMetrics.register(context.metrics());
  }

  @Override
  public void process(Record<byte[], Validated.Rejected> record) {
    ProcessorContext<byte[], byte[]> c = context;
    DeadLetterMetrics m = metrics;
    if (c == null || m == null) {
      throw new IllegalStateException("process() before init()");
    }
    RecordMetadata source =
        c.recordMetadata()
            .orElseThrow(() -> new IllegalStateException("dead letter without a source record"));
    DeadLetter letter = record.value().deadLetter();
    RecordHeaders headers = new RecordHeaders(record.headers().toArray());
    DeadLetterHeaders.append(headers, letter, source.topic(), source.partition(), source.offset());
    m.record(letter.reason());
    LOG.debug(
        "Dead letter {}-{}@{}: {} {}",
        source.topic(),
        source.partition(),
        source.offset(),
        letter.reason(),
        letter.message());
    c.forward(
        new Record<>(record.key(), record.value().rawValue(), record.timestamp(), headers),
        SaeTopology.DEAD_LETTER_SINK);
  }
}
