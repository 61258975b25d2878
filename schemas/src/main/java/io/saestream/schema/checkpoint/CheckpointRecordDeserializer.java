package io.saestream.schema.checkpoint;

import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryException;
import io.saestream.schema.serde.SpecificAvroDeserializer;
import io.saestream.schema.serde.WireFormat;
import io.saestream.schema.v1.SaeCheckpoint;
import io.saestream.schema.v1.SaeCheckpointChunk;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.jspecify.annotations.Nullable;

/**
 * Kafka value deserializer of the checkpoints topic: picks {@link SaeCheckpoint} or {@link
 * SaeCheckpointChunk} by the full name of the writer schema the header's id points to, then decodes
 * with schema resolution. {@code null} (a tombstone) stays {@code null}.
 *
 * <p>Errors: bytes that are not a checkpoint record fail with {@link SerializationException} (a
 * {@link io.saestream.schema.serde.WireFormatException} when the wire format itself is broken); a
 * registry that cannot be reached fails with {@link SchemaRegistryException} (infrastructure).
 * Thread-safe; does not own the registry client.
 */
public final class CheckpointRecordDeserializer implements Deserializer<SpecificRecord> {

  private final SchemaRegistryClient registry;
  private final SpecificAvroDeserializer<SaeCheckpoint> manifests;
  private final SpecificAvroDeserializer<SaeCheckpointChunk> chunks;
  private final Map<Integer, String> typeById = new ConcurrentHashMap<>();

  /** Creates a deserializer resolving writer schemas with {@code registry}. */
  public CheckpointRecordDeserializer(SchemaRegistryClient registry) {
    this.registry = Objects.requireNonNull(registry, "registry");
    this.manifests = new SpecificAvroDeserializer<>(registry, SaeCheckpoint.class);
    this.chunks = new SpecificAvroDeserializer<>(registry, SaeCheckpointChunk.class);
  }

  @Override
  public @Nullable SpecificRecord deserialize(String topic, byte @Nullable [] data) {
    if (data == null) {
      return null;
    }
    int id = WireFormat.schemaIdOf(data);
    String type = typeById.get(id);
    if (type == null) {
      try {
        type = registry.schemaById(id).getFullName();
      } catch (SchemaRegistryException e) {
        if (e.errorCode() == SchemaRegistryException.SCHEMA_NOT_FOUND) {
          throw new SerializationException("no schema with id " + id + " in the registry", e);
        }
        throw e;
      }
      typeById.putIfAbsent(id, type);
    }
    if (type.equals(SaeCheckpoint.getClassSchema().getFullName())) {
      return manifests.deserialize(topic, data);
    }
    if (type.equals(SaeCheckpointChunk.getClassSchema().getFullName())) {
      return chunks.deserialize(topic, data);
    }
    throw new SerializationException(
        "schema id " + id + " is a " + type + ", not a checkpoint manifest or chunk");
  }
}
