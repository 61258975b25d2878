package io.saestream.schema.registry;

import java.util.Objects;
import org.apache.avro.Schema;

/**
 * One version of a subject as the registry reports it.
 *
 * @param subject the subject, e.g. {@code sae.activations.v1-value}
 * @param id the registry-wide schema id written into the Confluent wire format
 * @param version the version of the schema within the subject, from 1
 * @param schema the Avro schema
 */
public record RegisteredSchema(String subject, int id, int version, Schema schema) {

  /** Validates that the id and version are positive. */
  public RegisteredSchema {
    Objects.requireNonNull(subject, "subject");
    Objects.requireNonNull(schema, "schema");
    if (subject.isEmpty()) {
      throw new IllegalArgumentException("subject must not be empty");
    }
    if (id < 0) {
      throw new IllegalArgumentException("id must be >= 0, was " + id);
    }
    if (version < 1) {
      throw new IllegalArgumentException("version must be >= 1, was " + version);
    }
  }
}
