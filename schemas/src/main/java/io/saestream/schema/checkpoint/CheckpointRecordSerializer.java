package io.saestream.schema.checkpoint;

import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.v1.SaeCheckpoint;
import io.saestream.schema.v1.SaeCheckpointChunk;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;
import org.jspecify.annotations.Nullable;

/**
 * Kafka value serializer of the checkpoints topic: an {@link SaeCheckpoint} or {@link
 * SaeCheckpointChunk} in the Confluent wire format, its schema registered under {@link
 * #subject(String, Schema) <topic>-<record full name>} (TopicRecordNameStrategy, one subject per
 * record type; see the package documentation). {@code null} is a tombstone.
 *
 * <p>Thread-safe; ids are cached per (subject, schema). Does not own the registry client.
 */
public final class CheckpointRecordSerializer implements Serializer<SpecificRecord> {

  private static final int MAGIC_BYTE = 0;

  private final SchemaRegistryClient registry;
  private final boolean autoRegister;
  private final Map<String, Integer> ids = new ConcurrentHashMap<>();

  /**
   * Creates a serializer registering schemas when {@code autoRegister}, else looking them up (and
   * failing when they were not registered beforehand).
   */
  public CheckpointRecordSerializer(SchemaRegistryClient registry, boolean autoRegister) {
    this.registry = Objects.requireNonNull(registry, "registry");
    this.autoRegister = autoRegister;
  }

  /** The registry subject of records of {@code schema} on {@code topic}. */
  public static String subject(String topic, Schema schema) {
    return topic + "-" + schema.getFullName();
  }

  @Override
  public byte @Nullable [] serialize(String topic, @Nullable SpecificRecord record) {
    if (record == null) {
      return null;
    }
    if (!(record instanceof SaeCheckpoint) && !(record instanceof SaeCheckpointChunk)) {
      throw new SerializationException(
          "the checkpoints topic carries SaeCheckpoint and SaeCheckpointChunk records, not "
              + record.getClass().getName());
    }
    Schema schema = record.getSchema();
    int id = schemaId(subject(topic, schema), schema);
    ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
    out.write(MAGIC_BYTE);
    out.writeBytes(ByteBuffer.allocate(Integer.BYTES).putInt(id).array());
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
    try {
      new SpecificDatumWriter<SpecificRecord>(schema).write(record, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("writing to memory cannot fail", e);
    } catch (RuntimeException e) {
      // Avro reports a record that does not fit its schema with NullPointerException,
      // ClassCastException or AvroRuntimeException.
      throw new SerializationException(
          "cannot encode a " + schema.getFullName() + " for topic " + topic + ": " + e, e);
    }
    return out.toByteArray();
  }

  private int schemaId(String subject, Schema schema) {
    Integer cached = ids.get(subject);
    if (cached != null) {
      return cached;
    }
    int id =
        autoRegister ? registry.register(subject, schema) : registry.lookup(subject, schema).id();
    ids.putIfAbsent(subject, id);
    return id;
  }
}
