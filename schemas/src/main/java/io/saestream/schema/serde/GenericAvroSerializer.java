package io.saestream.schema.serde;

import io.saestream.schema.registry.SchemaRegistryClient;
import java.util.Map;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.serialization.Serializer;
import org.jspecify.annotations.Nullable;

/**
 * Kafka serializer of {@link GenericRecord}s in the Confluent wire format, for tools and tests that
 * have no generated class for a schema. Same registration, caching and errors as {@link
 * SpecificAvroSerializer}. Logical types are written from their underlying Avro types (a {@code
 * timestamp-millis} field holds a {@code Long}).
 *
 * <p>Thread-safe. Does not own the registry client.
 */
public final class GenericAvroSerializer implements Serializer<GenericRecord> {

  private final WireFormatEncoder<GenericRecord> encoder;

  /** Creates a serializer that resolves schema ids with {@code registry}. */
  public GenericAvroSerializer(SchemaRegistryClient registry, AvroSerdeConfig config) {
    this.encoder =
        new WireFormatEncoder<>(
            registry,
            config,
            record -> new GenericDatumWriter<>(record.getSchema(), GenericData.get()));
  }

  /** Checks that Kafka's view of key or value matches the {@link AvroSerdeConfig}. */
  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    SerdeKeyCheck.requireSame(encoder.config(), isKey);
  }

  @Override
  public byte @Nullable [] serialize(String topic, @Nullable GenericRecord data) {
    return encoder.encode(topic, data);
  }
}
