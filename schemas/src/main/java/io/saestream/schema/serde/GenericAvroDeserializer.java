package io.saestream.schema.serde;

import io.saestream.schema.registry.SchemaRegistryClient;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.jspecify.annotations.Nullable;

/**
 * Kafka deserializer of Confluent-wire-format records into {@link GenericRecord}s, either with each
 * record's writer schema or resolved to a fixed reader schema. Same errors as {@link
 * SpecificAvroDeserializer}. Logical types are read as their underlying Avro types.
 *
 * <p>Thread-safe. Does not own the registry client.
 */
public final class GenericAvroDeserializer implements Deserializer<GenericRecord> {

  private final WireFormatDecoder<GenericRecord> decoder;

  /** Creates a deserializer that reads every record with its own writer schema. */
  public GenericAvroDeserializer(SchemaRegistryClient registry) {
    this.decoder = new WireFormatDecoder<>(registry, null, GenericAvroDeserializer::newReader);
  }

  /** Creates a deserializer that resolves every record to {@code readerSchema}, a record schema. */
  public GenericAvroDeserializer(SchemaRegistryClient registry, Schema readerSchema) {
    if (readerSchema.getType() != Schema.Type.RECORD) {
      throw new IllegalArgumentException(
          "readerSchema must be a record schema, was " + readerSchema.getType());
    }
    this.decoder =
        new WireFormatDecoder<>(registry, readerSchema, GenericAvroDeserializer::newReader);
  }

  @Override
  public @Nullable GenericRecord deserialize(String topic, byte @Nullable [] data) {
    return decoder.decode(data);
  }

  private static GenericDatumReader<GenericRecord> newReader(Schema writer, Schema reader) {
    return new GenericDatumReader<>(writer, reader, GenericData.get());
  }
}
