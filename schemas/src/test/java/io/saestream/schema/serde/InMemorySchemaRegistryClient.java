package io.saestream.schema.serde;

import io.saestream.schema.registry.CompatibilityLevel;
import io.saestream.schema.registry.RegisteredSchema;
import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;

/**
 * Registry fake for serde unit tests: global ids from 1, same canonical schema = same id, no
 * compatibility checks. Counts calls so tests can prove the serdes cache. Thread-safe.
 */
class InMemorySchemaRegistryClient implements SchemaRegistryClient {

  final AtomicInteger registerCalls = new AtomicInteger();
  final AtomicInteger lookupCalls = new AtomicInteger();
  final AtomicInteger schemaByIdCalls = new AtomicInteger();

  private final Map<String, Integer> idsByCanonical = new HashMap<>();
  private final Map<Integer, Schema> schemasById = new HashMap<>();
  private final Map<String, List<Integer>> versionsBySubject = new HashMap<>();

  @Override
  public synchronized int register(String subject, Schema schema) {
    registerCalls.incrementAndGet();
    int id =
        idsByCanonical.computeIfAbsent(
            schema.toString(),
            canonical -> {
              int next = idsByCanonical.size() + 1;
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
    schemaByIdCalls.incrementAndGet();
    Schema schema = schemasById.get(id);
    if (schema == null) {
      throw new SchemaRegistryException(
          "Schema " + id + " not found", 404, SchemaRegistryException.SCHEMA_NOT_FOUND);
    }
    return schema;
  }

  @Override
  public synchronized RegisteredSchema lookup(String subject, Schema schema) {
    lookupCalls.incrementAndGet();
    List<Integer> versions = versionsBySubject.get(subject);
    if (versions == null) {
      throw new SchemaRegistryException(
          "Subject '" + subject + "' not found.", 404, SchemaRegistryException.SUBJECT_NOT_FOUND);
    }
    Integer id = idsByCanonical.get(schema.toString());
    if (id == null || !versions.contains(id)) {
      throw new SchemaRegistryException(
          "Schema not found", 404, SchemaRegistryException.SCHEMA_NOT_FOUND);
    }
    return new RegisteredSchema(subject, id, versions.indexOf(id) + 1, schema);
  }

  @Override
  public synchronized RegisteredSchema latest(String subject) {
    List<Integer> versions = versionsBySubject.get(subject);
    if (versions == null) {
      throw new SchemaRegistryException(
          "Subject '" + subject + "' not found.", 404, SchemaRegistryException.SUBJECT_NOT_FOUND);
    }
    int id = versions.get(versions.size() - 1);
    return new RegisteredSchema(
        subject, id, versions.size(), Objects.requireNonNull(schemasById.get(id)));
  }

  @Override
  public boolean isCompatible(String subject, Schema schema) {
    return true;
  }

  @Override
  public CompatibilityLevel compatibility(String subject) {
    return CompatibilityLevel.NONE;
  }

  @Override
  public CompatibilityLevel updateCompatibility(String subject, CompatibilityLevel level) {
    throw new UnsupportedOperationException("not needed by the serde tests");
  }
}
