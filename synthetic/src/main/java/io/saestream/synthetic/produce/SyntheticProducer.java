package io.saestream.synthetic.produce;

import io.saestream.schema.registry.RestSchemaRegistryClient;
import io.saestream.schema.serde.AvroSerdeConfig;
import io.saestream.schema.serde.SpecificAvroSerializer;
import io.saestream.schema.v1.ActivationBatch;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes {@link ActivationBatch} records from a {@link BatchSource} to Kafka, key = {@code
 * sequence_id} (so a sequence stays on one partition, in order), value in the Confluent wire format
 * with the schema registered under {@code <topic>-value}, record timestamp = {@code produced_at}.
 *
 * <p>Failures are not skipped: the first failed send ends the run, which throws once everything in
 * flight has settled. Records counted in a {@link ProduceSummary} were acknowledged by all in-sync
 * replicas.
 *
 * <p>Lifetime: owns its Kafka producer; {@link #close()} flushes and closes it, after which {@link
 * #run} throws {@link IllegalStateException}. Thread-safety: one thread runs; {@link #stop()} may
 * be called from any thread (e.g. a shutdown hook) and makes the run flush and return.
 */
public final class SyntheticProducer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SyntheticProducer.class);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

  private final String topic;
  private final Producer<String, ActivationBatch> producer;
  private final TimeSource time;
  private final CountDownLatch stopSignal = new CountDownLatch(1);
  private final AtomicBoolean running = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicReference<Exception> sendFailure = new AtomicReference<>();

  /** For tests: writes with {@code producer} (e.g. a MockProducer) and waits with {@code time}. */
  SyntheticProducer(String topic, Producer<String, ActivationBatch> producer, TimeSource time) {
    this.topic = Objects.requireNonNull(topic, "topic");
    this.producer = Objects.requireNonNull(producer, "producer");
    this.time = Objects.requireNonNull(time, "time");
  }

  /**
   * Connects a Kafka producer with the project's Avro serializer and a registry client built from
   * {@code settings}; no request is made before the first record.
   */
  public static SyntheticProducer open(ProducerSettings settings) {
    Objects.requireNonNull(settings, "settings");
    SpecificAvroSerializer<ActivationBatch> values =
        new SpecificAvroSerializer<>(
            new RestSchemaRegistryClient(settings.registry()), AvroSerdeConfig.forValues());
    KafkaProducer<String, ActivationBatch> producer =
        new KafkaProducer<>(settings.toKafkaProperties(), new StringSerializer(), values);
    return new SyntheticProducer(settings.topic(), producer, TimeSource.SYSTEM);
  }

  /** The topic this producer writes. */
  public String topic() {
    return topic;
  }

  /**
   * Sends records from {@code source} until a limit is reached, the source is exhausted or {@link
   * #stop()} is called, then waits until every sent record is acknowledged. Does not close the
   * source.
   *
   * @throws KafkaException if a record could not be written (after the producer's own retries)
   * @throws org.apache.kafka.common.errors.SerializationException or {@link
   *     io.saestream.schema.registry.SchemaRegistryException} if a record cannot be serialized or
   *     its schema registered
   * @throws IllegalStateException if closed or already running
   * @throws InterruptException if the thread is interrupted while pacing
   */
  public ProduceSummary run(BatchSource source, ProduceLimits limits) {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(limits, "limits");
    if (closed.get()) {
      throw new IllegalStateException("producer is closed");
    }
    if (!running.compareAndSet(false, true)) {
      throw new IllegalStateException("producer is already running");
    }
    try {
      return produce(source, limits);
    } finally {
      running.set(false);
    }
  }

  private ProduceSummary produce(BatchSource source, ProduceLimits limits) {
    long start = time.nanoTime();
    Duration maxDuration = limits.maxDuration();
    long budget = maxDuration == null ? Long.MAX_VALUE : saturatedNanos(maxDuration);
    double nanosPerToken = limits.tokensPerSecond() > 0 ? 1e9 / limits.tokensPerSecond() : 0;
    long records = 0;
    long tokens = 0;
    long bytes = 0;
    while (records < limits.maxRecords() && !stopRequested()) {
      // Pacing: the next record may go once the tokens sent so far fit the rate.
      long due = (long) Math.min(tokens * nanosPerToken, (double) budget);
      long now = time.nanoTime() - start;
      while (now < due && !stopRequested()) {
        try {
          time.await(stopSignal, due - now);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptException(e);
        }
        now = time.nanoTime() - start;
      }
      if (now >= budget || stopRequested() || sendFailure.get() != null) {
        break;
      }
      ActivationBatch batch = source.next();
      if (batch == null) {
        break;
      }
      // The callback reports the outcome; flush() below waits for every future.
      Future<RecordMetadata> unused =
          producer.send(
              new ProducerRecord<>(
                  topic, null, batch.getProducedAt().toEpochMilli(), batch.getSequenceId(), batch),
              (metadata, exception) -> {
                if (exception != null && sendFailure.compareAndSet(null, exception)) {
                  // The run rethrows it with this cause; the log says when it happened.
                  LOG.warn("Sending to {} failed, stopping: {}", topic, exception.toString());
                }
              });
      records++;
      tokens += batch.getNTokens();
      bytes += batch.getData().remaining();
    }
    producer.flush();
    Exception failure = sendFailure.get();
    if (failure != null) {
      throw new KafkaException(
          "writing to topic " + topic + " failed: " + failure.getMessage(), failure);
    }
    ProduceSummary summary =
        new ProduceSummary(records, tokens, bytes, Duration.ofNanos(time.nanoTime() - start));
    LOG.info("Produced to {}: {}", topic, summary.describe());
    return summary;
  }

  /** Makes a run in progress (or the next one) flush what it sent and return; idempotent. */
  public void stop() {
    stopSignal.countDown();
  }

  private boolean stopRequested() {
    return stopSignal.getCount() == 0;
  }

  /** Stops a run, waits up to 30 s for sent records to be acknowledged, and closes; idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      stop();
      producer.close(CLOSE_TIMEOUT);
    }
  }

  private static long saturatedNanos(Duration d) {
    // Beyond 292 years Duration.toNanos overflows; such a limit is no limit.
    return d.compareTo(Duration.ofNanos(Long.MAX_VALUE)) >= 0 ? Long.MAX_VALUE : d.toNanos();
  }
}
