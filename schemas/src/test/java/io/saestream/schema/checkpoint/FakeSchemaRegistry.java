package io.saestream.schema.checkpoint;

import io.saestream.schema.registry.CompatibilityLevel;
import io.saestream.schema.registry.RegisteredSchema;
import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;

/**
 * Registry fake: global ids from 1 per distinct schema, the subjects each was registered under, no
 * compatibility checks. Thread-safe.
 */
final class FakeSchemaRegistry implements SchemaRegistryClient {

  private final Map<String, Integer> idsBySchema = new HashMap<>();
  private final Map<Integer, Schema> schemasById = new HashMap<>();
  private final Map<String, List<Integer>> subjects = new LinkedHashMap<>();

  @Override
  public synchronized int register(String subject, Schema schema) {
    int id =
        idsBySchema.computeIfAbsent(
            schema.toString(),
            s -> {
              int next = idsBySchema.size() + 1;
              schemasById.put(next, schema);
              return next;
            });
    List<Integer> versions = subjects.computeIfAbsent(subject, s -> new ArrayList<>());
    if (!versions.contains(id)) {
      versions.add(id);
    }
    return id;
  }

  /** Registers {@code schema} under a subject of its own, as another producer might. */
  synchronized int registerElsewhere(Schema schema) {
    return register("elsewhere-" + schema.getFullName(), schema);
  }

  synchronized List<String> subjects() {
    return List.copyOf(subjects.keySet());
  }

  @Override
  public synchronized Schema schemaById(int id) {
    Schema schema = schemasById.get(id);
    if (schema == null) {
      throw new SchemaRegistryException(
          "Schema " + id + " not found", 404, SchemaRegistryException.SCHEMA_NOT_FOUND);
    }
    return schema;
  }

  @Override
  public synchronized RegisteredSchema lookup(String subject, Schema schema) {
    throw new UnsupportedOperationException("not used");
  }

  @Override
  public RegisteredSchema latest(String subject) {
    throw new UnsupportedOperationException("not used");
  }

  @Override
  public boolean isCompatible(String subject, Schema schema) {
    throw new UnsupportedOperationException("not used");
  }

  @Override
  public CompatibilityLevel compatibility(String subject) {
    return CompatibilityLevel.BACKWARD;
  }

  @Override
  public CompatibilityLevel updateCompatibility(String subject, CompatibilityLevel level) {
    return level;
  }
}
