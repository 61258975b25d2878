package io.saestream.launcher.it;

import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.serde.AvroSerdeConfig;
import io.saestream.schema.serde.SpecificAvroSerializer;
import io.saestream.schema.v1.ActivationBatch;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Sends ActivationBatch records, keyed by sequence id, one at a time: each {@link #send} waits for
 * the acknowledgement of every in-sync replica ({@code acks=all}) and says where the batch landed,
 * so a test knows exactly which inputs the broker holds. Owns its Kafka producer until {@link
 * #close()}; does not own the registry client. Thread-safe, as KafkaProducer and the serializer
 * are.
 */
final class AcknowledgedBatchProducer implements AutoCloseable {

  /** Far above an acknowledgement on an in-JVM broker, even on two busy cores. */
  private static final Duration ACK_TIMEOUT = Duration.ofSeconds(30);

  private final KafkaProducer<String, byte[]> producer;
  private final SpecificAvroSerializer<ActivationBatch> serializer;

  AcknowledgedBatchProducer(String bootstrap, SchemaRegistryClient registry) {
    this.producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ProducerConfig.ACKS_CONFIG,
                "all"),
            new StringSerializer(),
            new ByteArraySerializer());
    this.serializer = new SpecificAvroSerializer<>(registry, AvroSerdeConfig.forValues());
  }

  /** Sends {@code batch} to {@code topic} and returns where it landed, once acknowledged. */
  RecordMetadata send(String topic, ActivationBatch batch)
      throws InterruptedException, ExecutionException, TimeoutException {
    return producer
        .send(
            new ProducerRecord<>(topic, batch.getSequenceId(), serializer.serialize(topic, batch)))
        .get(ACK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(10));
  }
}
