package io.saestream.schema.serde;

import org.jspecify.annotations.Nullable;

/**
 * The writer schema of a record cannot be read as the reader's schema: another record type, an
 * incompatible change, or not an Avro record schema at all.
 */
public final class SchemaMismatchException extends WireFormatException {

  private static final long serialVersionUID = 1L;

  private final int schemaId;

  SchemaMismatchException(int schemaId, String detail, @Nullable Throwable cause) {
    super(
        Reason.SCHEMA_MISMATCH,
        "writer schema id " + schemaId + " cannot be read as the reader schema: " + detail,
        cause);
    this.schemaId = schemaId;
  }

  /** The writer schema id read from the record's header. */
  public int schemaId() {
    return schemaId;
  }
}
