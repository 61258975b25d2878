package io.saestream.schema.serde;

import io.saestream.schema.registry.SchemaRegistryException;

/** The schema registry has no schema with the id in a record's header. */
public final class UnknownSchemaIdException extends WireFormatException {

  private static final long serialVersionUID = 1L;

  private final int schemaId;

  UnknownSchemaIdException(int schemaId, SchemaRegistryException cause) {
    super(
        Reason.UNKNOWN_SCHEMA_ID,
        "schema id " + schemaId + " is not known to the schema registry",
        cause);
    this.schemaId = schemaId;
  }

  /** The id read from the record's header. */
  public int schemaId() {
    return schemaId;
  }
}
