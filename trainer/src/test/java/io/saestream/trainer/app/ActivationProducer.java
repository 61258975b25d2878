package io.saestream.trainer.app;

import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.serde.AvroSerdeConfig;
import io.saestream.schema.serde.SpecificAvroSerializer;
import io.saestream.schema.v1.ActivationBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Writes activation records to one topic of a test's broker, as the activations producer would:
 * Avro with the registry's wire format, keyed by sequence id. Owned by the test that opened it;
 * {@link #close()} returns once every record sent is acknowledged, and fails if one was not. Not
 * thread-safe.
 */
final class ActivationProducer implements AutoCloseable {

  private final String topic;
  private final SpecificAvroSerializer<ActivationBatch> serializer;
  private final KafkaProducer<String, byte[]> producer;
  private final List<Future<RecordMetadata>> sent = new ArrayList<>();

  /** A producer with {@code config} (the broker's address and acks), writing to {@code topic}. */
  ActivationProducer(Map<String, Object> config, SchemaRegistryClient registry, String topic) {
    this.topic = topic;
    this.serializer = new SpecificAvroSerializer<>(registry, AvroSerdeConfig.forValues());
    this.producer = new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
  }

  /** Sends {@code batch}, keyed by its sequence id. */
  void send(ActivationBatch batch) {
    sendBytes(
        batch.getSequenceId(),
        Objects.requireNonNull(serializer.serialize(topic, batch), "serialized batch"));
  }

  /** Sends {@code value} as it is: for records no serializer would write. */
  void sendBytes(String key, byte[] value) {
    sent.add(producer.send(new ProducerRecord<>(topic, key, value)));
  }

  /** Waits for every record sent to be acknowledged, then closes the producer. */
  @Override
  public void close() {
    try {
      for (Future<RecordMetadata> f : sent) {
        f.get();
      }
    } catch (ExecutionException e) {
      throw new IllegalStateException("a record was not acknowledged", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for acknowledgements", e);
    } finally {
      producer.close();
    }
  }
}
