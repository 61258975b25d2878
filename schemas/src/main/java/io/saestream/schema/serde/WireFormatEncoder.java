package io.saestream.schema.serde;

import io.saestream.schema.registry.SchemaRegistryClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericContainer;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.errors.SerializationException;
import org.jspecify.annotations.Nullable;

/**
 * Writes records in the Confluent wire format, resolving and caching the schema id of each
 * (subject, schema) pair. Thread-safe.
 */
final class WireFormatEncoder<T extends GenericContainer> {

  private final SchemaRegistryClient registry;
  private final AvroSerdeConfig config;
  private final Function<T, DatumWriter<T>> writerFactory;
  private final Map<SubjectSchema, Integer> ids = new ConcurrentHashMap<>();
  private final Map<Schema, DatumWriter<T>> writers = new ConcurrentHashMap<>();

  WireFormatEncoder(
      SchemaRegistryClient registry,
      AvroSerdeConfig config,
      Function<T, DatumWriter<T>> writerFactory) {
    this.registry = Objects.requireNonNull(registry, "registry");
    this.config = Objects.requireNonNull(config, "config");
    this.writerFactory = writerFactory;
  }

  AvroSerdeConfig config() {
    return config;
  }

  byte @Nullable [] encode(String topic, @Nullable T record) {
    if (record == null) {
      return null;
    }
    Schema schema = record.getSchema();
    int id = schemaId(config.subjectFor(topic), schema);
    DatumWriter<T> writer = writers.get(schema);
    if (writer == null) {
      writer = writerFactory.apply(record);
      writers.putIfAbsent(schema, writer);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    byte[] header = new byte[WireFormat.HEADER_LENGTH];
    WireFormat.writeHeader(header, id);
    out.writeBytes(header);
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
    try {
      writer.write(record, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("writing to memory cannot fail", e);
    } catch (RuntimeException e) {
      // Avro reports a record that does not fit its schema (null in a non-null field, wrong type)
      // with NullPointerException, ClassCastException or AvroRuntimeException.
      throw new SerializationException(
          "cannot encode a " + schema.getFullName() + " for topic " + topic + ": " + e.getMessage(),
          e);
    }
    return out.toByteArray();
  }

  private int schemaId(String subject, Schema schema) {
    SubjectSchema key = new SubjectSchema(subject, schema);
    Integer cached = ids.get(key);
    if (cached != null) {
      return cached;
    }
    int id =
        config.autoRegisterSchemas()
            ? registry.register(subject, schema)
            : registry.lookup(subject, schema).id();
    ids.putIfAbsent(key, id);
    return id;
  }

  /** Schema equality is structural; the hash is cached by Avro, so lookups stay cheap. */
  private record SubjectSchema(String subject, Schema schema) {}
}
