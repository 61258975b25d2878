package io.saestream.schema.serde;

import io.saestream.schema.registry.SchemaRegistryClient;
import java.util.Objects;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.jspecify.annotations.Nullable;

/**
 * Kafka deserializer of Confluent-wire-format records into a generated Avro record type. The writer
 * schema is fetched by the id in the header (cached) and resolved to the record type's schema, so
 * records written with an older or newer compatible schema are read (Avro schema evolution).
 *
 * <p>Errors: bad bytes fail with a {@link WireFormatException} subclass whose {@link
 * WireFormatException#reason()} names the cause (dead-letter material); a registry that cannot be
 * reached fails with {@link io.saestream.schema.registry.SchemaRegistryException}. {@code null}
 * deserializes to {@code null}.
 *
 * <p>Runtime requirement: Avro 1.12 only instantiates generated classes from trusted packages, so a
 * JVM that uses these records needs {@code -Dorg.apache.avro.SERIALIZABLE_PACKAGES=io.saestream}
 * (the build passes it to tests).
 *
 * <p>Thread-safe. Does not own the registry client; {@link #close()} does nothing.
 *
 * @param <T> the generated record type
 */
public final class SpecificAvroDeserializer<T extends SpecificRecord> implements Deserializer<T> {

  private final Class<T> type;
  private final WireFormatDecoder<T> decoder;

  /** Creates a deserializer into {@code type}, a generated record class. */
  public SpecificAvroDeserializer(SchemaRegistryClient registry, Class<T> type) {
    this.type = Objects.requireNonNull(type, "type");
    SpecificData model = SpecificData.getForClass(type);
    Schema readerSchema;
    try {
      readerSchema = model.getSchema(type);
    } catch (AvroRuntimeException e) {
      throw new IllegalArgumentException(
          "type must be a generated Avro record class, was " + type.getName(), e);
    }
    if (readerSchema.getType() != Schema.Type.RECORD) {
      throw new IllegalArgumentException(
          "type must be a generated Avro record class, was " + type.getName());
    }
    try {
      model.getClass(readerSchema);
    } catch (SecurityException e) {
      // Fail at startup rather than on the first record.
      throw new IllegalStateException(
          "Avro does not trust "
              + type.getName()
              + "; start the JVM with -Dorg.apache.avro.SERIALIZABLE_PACKAGES="
              + type.getPackageName(),
          e);
    }
    this.decoder =
        new WireFormatDecoder<>(
            registry, readerSchema, (writer, reader) -> newReader(writer, reader, model));
  }

  /** The record type this deserializer produces. */
  public Class<T> type() {
    return type;
  }

  @Override
  public @Nullable T deserialize(String topic, byte @Nullable [] data) {
    return decoder.decode(data);
  }

  private static <T> SpecificDatumReader<T> newReader(
      Schema writer, Schema reader, SpecificData model) {
    return new SpecificDatumReader<>(writer, reader, model);
  }
}
