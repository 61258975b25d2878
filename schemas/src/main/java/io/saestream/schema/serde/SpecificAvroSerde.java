package io.saestream.schema.serde;

import io.saestream.schema.registry.SchemaRegistryClient;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A {@link SpecificAvroSerializer} and {@link SpecificAvroDeserializer} of one record type, for
 * Kafka Streams. Thread-safe; does not own the registry client.
 *
 * @param <T> the generated record type
 */
public final class SpecificAvroSerde<T extends SpecificRecord> implements Serde<T> {

  private final SpecificAvroSerializer<T> serializer;
  private final SpecificAvroDeserializer<T> deserializer;

  /** Creates the pair for {@code type} with the given registry and serializer settings. */
  public SpecificAvroSerde(SchemaRegistryClient registry, Class<T> type, AvroSerdeConfig config) {
    this.serializer = new SpecificAvroSerializer<>(registry, config);
    this.deserializer = new SpecificAvroDeserializer<>(registry, type);
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    serializer.configure(configs, isKey);
    deserializer.configure(configs, isKey);
  }

  @Override
  public Serializer<T> serializer() {
    return serializer;
  }

  @Override
  public Deserializer<T> deserializer() {
    return deserializer;
  }
}
