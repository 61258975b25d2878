package io.saestream.schema.registry;

import org.apache.avro.Schema;

/**
 * The schema-registry operations sae-stream needs, in Confluent Schema Registry semantics.
 *
 * <p>Implementations send schemas without Java-only properties ({@code avro.java.string}), so that
 * the schema of a generated class and the {@code .avsc} file it was generated from are one schema
 * with one id, whichever language registers it first.
 *
 * <p>Implementations are thread-safe. Every method throws {@link SchemaRegistryException} when the
 * registry refuses the request (with the registry's error code) or cannot be reached.
 */
public interface SchemaRegistryClient {

  /**
   * Registers {@code schema} under {@code subject} (or finds it already there) and returns its
   * registry-wide id; fails with {@link SchemaRegistryException#INCOMPATIBLE_SCHEMA} when the
   * subject's compatibility level rejects it.
   */
  int register(String subject, Schema schema);

  /**
   * Returns the schema with the given id; fails with {@link
   * SchemaRegistryException#SCHEMA_NOT_FOUND} when there is none.
   */
  Schema schemaById(int id);

  /**
   * Finds {@code schema} among the versions of {@code subject} without registering it; fails with
   * {@link SchemaRegistryException#SUBJECT_NOT_FOUND} or {@link
   * SchemaRegistryException#SCHEMA_NOT_FOUND}.
   */
  RegisteredSchema lookup(String subject, Schema schema);

  /** Returns the latest version of {@code subject}, never from a cache. */
  RegisteredSchema latest(String subject);

  /**
   * Tells whether {@code schema} could be registered as the next version of {@code subject} under
   * the subject's compatibility level, checked against its latest version. For a subject without
   * versions Confluent answers true; some other registries fail with {@link
   * SchemaRegistryException#SUBJECT_NOT_FOUND}.
   */
  boolean isCompatible(String subject, Schema schema);

  /**
   * Returns the compatibility level in force for {@code subject}, falling back to the global one.
   */
  CompatibilityLevel compatibility(String subject);

  /** Sets the compatibility level of {@code subject} and returns the level now in force. */
  CompatibilityLevel updateCompatibility(String subject, CompatibilityLevel level);
}
