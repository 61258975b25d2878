package io.saestream.schema.testing;

import io.saestream.schema.registry.CompatibilityLevel;
import io.saestream.schema.registry.RegisteredSchema;
import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.Schema;

/**
 * In-memory registry double for serde and topology tests (the registry protocol itself is tested
 * against {@code RestSchemaRegistryClient} and the embedded registry): global ids from 1, the same
 * schema text gets the same id, versions per subject in registration order, Confluent's error codes
 * for what is missing. Compatibility is never checked; a level set by {@link #updateCompatibility}
 * is only recorded (default {@link CompatibilityLevel#BACKWARD}, as in Confluent). Counts calls so
 * that tests can prove the serdes cache.
 *
 * <p>Published in the schemas test-jar for the other modules' tests. Thread-safe. Not final: a test
 * may override one method to simulate a failing registry.
 */
public class InMemorySchemaRegistryClient implements SchemaRegistryClient {

  private final Map<String, Integer> idsBySchema = new HashMap<>();
  private final Map<Integer, Schema> schemasById = new HashMap<>();
  private final Map<String, List<Integer>> versionsBySubject = new LinkedHashMap<>();
  private final Map<String, CompatibilityLevel> levels = new HashMap<>();
  private int registerCalls;
  private int lookupCalls;
  private int schemaByIdCalls;

  /** An empty registry. */
  public InMemorySchemaRegistryClient() {}

  @Override
  public synchronized int register(String subject, Schema schema) {
    registerCalls++;
    int id =
        idsBySchema.computeIfAbsent(
            schema.toString(),
            text -> {
              int next = idsBySchema.size() + 1;
              schemasById.put(next, schema);
              return next;
            });
    List<Integer> versions = versionsBySubject.computeIfAbsent(subject, s -> new ArrayList<>());
    if (!versions.contains(id)) {
      versions.add(id);
    }
    return id;
  }

  @Override
  public synchronized Schema schemaById(int id) {
    schemaByIdCalls++;
    Schema schema = schemasById.get(id);
    if (schema == null) {
      throw new SchemaRegistryException(
          "Schema " + id + " not found", 404, SchemaRegistryException.SCHEMA_NOT_FOUND);
    }
    return schema;
  }

  @Override
  public synchronized RegisteredSchema lookup(String subject, Schema schema) {
    lookupCalls++;
    List<Integer> versions = versions(subject);
    Integer id = idsBySchema.get(schema.toString());
    if (id == null || !versions.contains(id)) {
      throw new SchemaRegistryException(
          "Schema not found", 404, SchemaRegistryException.SCHEMA_NOT_FOUND);
    }
    return new RegisteredSchema(subject, id, versions.indexOf(id) + 1, schema);
  }

  @Override
  public synchronized RegisteredSchema latest(String subject) {
    List<Integer> versions = versions(subject);
    int id = versions.get(versions.size() - 1);
    return new RegisteredSchema(
        subject, id, versions.size(), Objects.requireNonNull(schemasById.get(id)));
  }

  @Override
  public boolean isCompatible(String subject, Schema schema) {
    return true;
  }

  @Override
  public synchronized CompatibilityLevel compatibility(String subject) {
    return levels.getOrDefault(subject, CompatibilityLevel.BACKWARD);
  }

  @Override
  public synchronized CompatibilityLevel updateCompatibility(
      String subject, CompatibilityLevel level) {
    levels.put(subject, level);
    return level;
  }

  /** The subjects registered so far, in the order of their first registration. */
  public synchronized List<String> subjects() {
    return List.copyOf(versionsBySubject.keySet());
  }

  /** How many times {@link #register} was called. */
  public synchronized int registerCalls() {
    return registerCalls;
  }

  /** How many times {@link #lookup} was called. */
  public synchronized int lookupCalls() {
    return lookupCalls;
  }

  /** How many times {@link #schemaById} was called. */
  public synchronized int schemaByIdCalls() {
    return schemaByIdCalls;
  }

  private List<Integer> versions(String subject) {
    List<Integer> versions = versionsBySubject.get(subject);
    if (versions == null) {
      throw new SchemaRegistryException(
          "Subject '" + subject + "' not found.", 404, SchemaRegistryException.SUBJECT_NOT_FOUND);
    }
    return versions;
  }
}
