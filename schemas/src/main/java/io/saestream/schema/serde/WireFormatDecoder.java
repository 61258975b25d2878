package io.saestream.schema.serde;

import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryException;
import java.io.EOFException;
import java.io.IOException;
import java.time.DateTimeException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.stream.Collectors;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.jspecify.annotations.Nullable;

/**
 * Reads Confluent-wire-format records: fetches the writer schema by id, checks once per id that it
 * resolves to the reader schema, and decodes. Thread-safe: Avro's datum readers keep per-thread
 * resolver state.
 */
final class WireFormatDecoder<T> {

  private final SchemaRegistryClient registry;
  private final @Nullable Schema readerSchema;
  private final BiFunction<Schema, Schema, DatumReader<T>> readerFactory;
  private final Map<Integer, Resolution<T>> resolutions = new ConcurrentHashMap<>();

  /**
   * @param readerSchema the schema to decode into, or null to decode with each writer schema
   * @param readerFactory builds a reader from (writer schema, reader schema)
   */
  WireFormatDecoder(
      SchemaRegistryClient registry,
      @Nullable Schema readerSchema,
      BiFunction<Schema, Schema, DatumReader<T>> readerFactory) {
    this.registry = Objects.requireNonNull(registry, "registry");
    this.readerSchema = readerSchema;
    this.readerFactory = readerFactory;
  }

  @Nullable T decode(byte @Nullable [] data) {
    if (data == null) {
      return null;
    }
    int schemaId = WireFormat.schemaIdOf(data);
    DatumReader<T> reader = resolution(schemaId).readerOrThrow(schemaId);
    BinaryDecoder decoder =
        DecoderFactory.get()
            .binaryDecoder(
                data, WireFormat.HEADER_LENGTH, data.length - WireFormat.HEADER_LENGTH, null);
    T value;
    try {
      value = reader.read(null, decoder);
      if (!decoder.isEnd()) {
        throw new MalformedPayloadException(
            schemaId, "bytes left over after the record; wrong schema id?", null);
      }
    } catch (EOFException e) {
      throw new TruncatedPayloadException(
          data.length, "Avro body ends early under writer schema id " + schemaId, e);
    } catch (IOException e) {
      throw new MalformedPayloadException(schemaId, String.valueOf(e.getMessage()), e);
    } catch (AvroRuntimeException
        | UnsupportedOperationException
        | IndexOutOfBoundsException
        | NegativeArraySizeException
        | DateTimeException
        | ArithmeticException e) {
      // What Avro throws on corrupt input: bad union or enum index, negative lengths, lengths
      // beyond its system limits (UnsupportedOperationException), logical values out of range.
      throw new MalformedPayloadException(schemaId, String.valueOf(e.getMessage()), e);
    }
    return value;
  }

  private Resolution<T> resolution(int schemaId) {
    Resolution<T> cached = resolutions.get(schemaId);
    if (cached != null) {
      return cached;
    }
    Schema writer;
    try {
      writer = registry.schemaById(schemaId);
    } catch (SchemaRegistryException e) {
      if (e.errorCode() == SchemaRegistryException.SCHEMA_NOT_FOUND) {
        throw new UnknownSchemaIdException(schemaId, e);
      }
      if (e.errorCode() == SchemaRegistryException.INVALID_SCHEMA) {
        throw new SchemaMismatchException(schemaId, String.valueOf(e.getMessage()), e);
      }
      throw e;
    }
    Resolution<T> resolved = resolve(writer);
    Resolution<T> raced = resolutions.putIfAbsent(schemaId, resolved);
    return raced == null ? resolved : raced;
  }

  private Resolution<T> resolve(Schema writer) {
    if (writer.getType() != Schema.Type.RECORD) {
      return Resolution.mismatch("writer schema is a " + writer.getType() + ", not a record");
    }
    Schema reader = readerSchema == null ? writer : readerSchema;
    SchemaCompatibility.SchemaPairCompatibility compatibility =
        SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
    if (compatibility.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
      String problems =
          compatibility.getResult().getIncompatibilities().stream()
              .map(i -> i.getType() + " at " + i.getLocation() + ": " + i.getMessage())
              .collect(Collectors.joining("; "));
      return Resolution.mismatch(
          "reader "
              + reader.getFullName()
              + " vs writer "
              + writer.getFullName()
              + ": "
              + problems);
    }
    return new Resolution<>(readerFactory.apply(writer, reader), null);
  }

  /** Either a reader for a writer schema, or why there is none; cached per schema id. */
  private record Resolution<T>(@Nullable DatumReader<T> reader, @Nullable String mismatch) {

    static <T> Resolution<T> mismatch(String why) {
      return new Resolution<>(null, why);
    }

    DatumReader<T> readerOrThrow(int schemaId) {
      if (reader == null) {
        throw new SchemaMismatchException(schemaId, String.valueOf(mismatch), null);
      }
      return reader;
    }
  }
}
