package io.saestream.schema.serde;

import io.saestream.schema.registry.SchemaRegistryClient;
import java.util.Map;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serializer;
import org.jspecify.annotations.Nullable;

/**
 * Kafka serializer of generated Avro records (e.g. {@code io.saestream.schema.v1.FeatureBatch}) in
 * the Confluent wire format. The record's schema is registered, or looked up, under {@code
 * <topic>-value} ({@code <topic>-key} for keys) once per topic and schema; the id is cached.
 *
 * <p>Errors: a record that does not fit its schema fails with {@link
 * org.apache.kafka.common.errors.SerializationException}; a registry that refuses the schema
 * (incompatible, not registered with auto-registration off) or cannot be reached fails with {@link
 * io.saestream.schema.registry.SchemaRegistryException}. {@code null} serializes to {@code null} (a
 * tombstone).
 *
 * <p>Runtime requirement: Avro 1.12 only instantiates generated classes from trusted packages, so a
 * JVM that uses these records needs {@code -Dorg.apache.avro.SERIALIZABLE_PACKAGES=io.saestream}
 * (the build passes it to tests).
 *
 * <p>Thread-safe. Does not own the registry client; {@link #close()} does nothing.
 *
 * @param <T> the generated record type
 */
public final class SpecificAvroSerializer<T extends SpecificRecord> implements Serializer<T> {

  private final WireFormatEncoder<T> encoder;

  /** Creates a serializer that resolves schema ids with {@code registry}. */
  public SpecificAvroSerializer(SchemaRegistryClient registry, AvroSerdeConfig config) {
    this.encoder =
        new WireFormatEncoder<>(
            registry,
            config,
            record ->
                new SpecificDatumWriter<>(
                    record.getSchema(), SpecificData.getForClass(record.getClass())));
  }

  /**
   * Checks that Kafka's view of key or value matches the {@link AvroSerdeConfig} this serializer
   * was built with; the other settings come from the constructor only.
   */
  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    SerdeKeyCheck.requireSame(encoder.config(), isKey);
  }

  @Override
  public byte @Nullable [] serialize(String topic, @Nullable T data) {
    return encoder.encode(topic, data);
  }
}
