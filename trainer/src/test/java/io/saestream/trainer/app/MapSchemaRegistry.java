package io.saestream.trainer.app;

import io.saestream.schema.registry.CompatibilityLevel;
import io.saestream.schema.registry.RegisteredSchema;
import io.saestream.schema.registry.SchemaRegistryClient;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;

/** An in-memory schema registry for tests: ids in registration order. Thread-safe. */
final class MapSchemaRegistry implements SchemaRegistryClient {
  private final Map<Integer, Schema> byId = new ConcurrentHashMap<>();
  private final AtomicInteger next = new AtomicInteger(1);

  @Override
  public int register(String subject, Schema schema) {
    for (Map.Entry<Integer, Schema> e : byId.entrySet()) {
      if (e.getValue().equals(schema)) {
        return e.getKey();
      }
    }
    int id = next.getAndIncrement();
    byId.put(id, schema);
    return id;
  }

  @Override
  public Schema schemaById(int id) {
    Schema s = byId.get(id);
    if (s == null) {
      throw new IllegalArgumentException("unknown id " + id);
    }
    return s;
  }

  @Override
  public RegisteredSchema lookup(String subject, Schema schema) {
    return new RegisteredSchema(subject, register(subject, schema), 1, schema);
  }

  @Override
  public RegisteredSchema latest(String subject) {
    throw new UnsupportedOperationException("latest");
  }

  @Override
  public boolean isCompatible(String subject, Schema schema) {
    return true;
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
