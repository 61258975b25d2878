package io.saestream.launcher.bench;

import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.serde.SpecificAvroDeserializer;
import io.saestream.schema.v1.FeatureBatch;
import io.saestream.streams.StreamsApp;
import io.saestream.streams.errors.DeadLetterMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.jspecify.annotations.Nullable;

/**
 * A read_committed consumer of one features topic on its own thread, recording when each
 * FeatureBatch became readable, its latency from the record timestamp set at send, and its
 * produced_at stamp. Checks every batch's token count.
 *
 * <p>Owned by the benchmark that starts it and closed by it; the accessors are thread-safe.
 */
final class FeatureReader implements AutoCloseable {

  /** {@code count} FeatureBatch records had been read at {@code nanos} (System.nanoTime()). */
  record Arrival(long nanos, long count) {}

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final SpecificAvroDeserializer<FeatureBatch> deserializer;
  private final String topic;
  private final int tokens;
  private final Duration waitLimit;
  private final Thread thread;
  private final List<Arrival> arrivals = new ArrayList<>();
  private long[] latenciesMs = new long[1024];
  private long[] producedAtMs = new long[1024];
  private long count;
  private @Nullable RuntimeException failure;
  private volatile boolean closed;

  private FeatureReader(
      String bootstrap,
      String topic,
      SchemaRegistryClient registryClient,
      int tokens,
      Duration waitLimit) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    this.consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.deserializer = new SpecificAvroDeserializer<>(registryClient, FeatureBatch.class);
    this.topic = topic;
    this.tokens = tokens;
    this.waitLimit = waitLimit;
    this.thread = new Thread(this::readLoop, "bench-e2e-reader-" + topic);
    this.thread.setDaemon(true);
  }

  /** Starts reading {@code topic} from the beginning. */
  static FeatureReader start(
      String bootstrap,
      String topic,
      SchemaRegistryClient registryClient,
      int tokens,
      Duration waitLimit) {
    FeatureReader reader = new FeatureReader(bootstrap, topic, registryClient, tokens, waitLimit);
    List<TopicPartition> partitions =
        reader.consumer.partitionsFor(topic).stream()
            .map(p -> new TopicPartition(topic, p.partition()))
            .toList();
    reader.consumer.assign(partitions);
    reader.consumer.seekToBeginning(partitions);
    reader.thread.start();
    return reader;
  }

  private void readLoop() {
    try {
      while (!closed) {
        ConsumerRecords<byte[], byte[]> polled = consumer.poll(Duration.ofMillis(100));
        if (polled.isEmpty()) {
          continue;
        }
        long nanos = System.nanoTime();
        long wallMs = System.currentTimeMillis();
        List<long[]> read = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : polled) {
          FeatureBatch batch = deserializer.deserialize(topic, record.value());
          if (batch == null || batch.getNTokens() != tokens) {
            throw new IllegalStateException(
                "unexpected FeatureBatch at offset " + record.offset() + ": " + batch);
          }
          read.add(new long[] {wallMs - record.timestamp(), batch.getProducedAt().toEpochMilli()});
        }
        synchronized (this) {
          for (long[] r : read) {
            if (count == latenciesMs.length) {
              latenciesMs = Arrays.copyOf(latenciesMs, latenciesMs.length * 2);
              producedAtMs = Arrays.copyOf(producedAtMs, producedAtMs.length * 2);
            }
            latenciesMs[(int) count] = r[0];
            producedAtMs[(int) count] = r[1];
            count++;
          }
          arrivals.add(new Arrival(nanos, count));
          notifyAll();
        }
      }
    } catch (WakeupException e) {
      if (!closed) {
        fail(new IllegalStateException("feature reader woken up unexpectedly", e));
      }
    } catch (RuntimeException e) {
      fail(e);
    } finally {
      consumer.close();
    }
  }

  private synchronized void fail(RuntimeException e) {
    failure = e;
    notifyAll();
  }

  /** FeatureBatch records read so far. */
  synchronized long count() {
    return count;
  }

  /**
   * Waits until {@code target} records were read; fails if the app, the reader or the producing
   * side ({@code producing} returns its failure, or null) fails, or a record is dead-lettered.
   */
  synchronized void awaitCount(long target, StreamsApp app, Supplier<@Nullable Exception> producing)
      throws InterruptedException {
    long deadline = System.nanoTime() + waitLimit.toNanos();
    while (count < target) {
      RuntimeException f = failure;
      if (f != null) {
        throw new IllegalStateException("the feature reader of " + topic + " failed", f);
      }
      Exception p = producing.get();
      if (p != null) {
        throw new IllegalStateException("producing activation records failed", p);
      }
      if (app.failed()) {
        throw new IllegalStateException("the streams app failed");
      }
      long deadLetters = DeadLetterMetrics.total(app.kafkaStreams().metrics());
      if (deadLetters > 0) {
        throw new IllegalStateException(
            deadLetters + " activation record(s) went to the dead-letter topic");
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new IllegalStateException(
            "read "
                + count
                + " FeatureBatch records from "
                + topic
                + ", expected "
                + target
                + " within "
                + waitLimit);
      }
      wait(Math.min(TimeUnit.NANOSECONDS.toMillis(left) + 1, 200));
    }
  }

  /** The first poll that returned records at or after {@code nanos}. */
  synchronized Arrival firstArrivalAfter(long nanos) {
    return arrivals.stream()
        .filter(a -> a.nanos() >= nanos)
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("no FeatureBatch read after the backlog"));
  }

  /** The poll that brought the count to {@code target} or beyond. */
  synchronized Arrival arrivalReaching(long target) {
    return arrivals.stream()
        .filter(a -> a.count() >= target)
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("count " + target + " not reached"));
  }

  /** FeatureBatch.produced_at of records {@code from} (inclusive) to {@code to} (exclusive). */
  synchronized long[] producedAtMs(long from, long to) {
    return Arrays.copyOfRange(producedAtMs, (int) from, (int) to);
  }

  /** Latencies of records {@code from} (inclusive) to {@code to} (exclusive), in read order. */
  synchronized long[] latenciesMs(long from, long to) {
    return Arrays.copyOfRange(latenciesMs, (int) from, (int) to);
  }

  @Override
  public void close() {
    closed = true;
    consumer.wakeup();
    try {
      thread.join(Duration.ofSeconds(10).toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while stopping the feature reader", e);
    }
  }
}
