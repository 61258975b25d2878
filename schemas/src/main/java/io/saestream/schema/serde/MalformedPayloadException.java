package io.saestream.schema.serde;

import org.jspecify.annotations.Nullable;

/** The Avro body of a record does not decode under the writer schema named in its header. */
public final class MalformedPayloadException extends WireFormatException {

  private static final long serialVersionUID = 1L;

  private final int schemaId;

  MalformedPayloadException(int schemaId, String detail, @Nullable Throwable cause) {
    super(
        Reason.MALFORMED_PAYLOAD,
        "record body does not decode under writer schema id " + schemaId + ": " + detail,
        cause);
    this.schemaId = schemaId;
  }

  /** The writer schema id read from the record's header. */
  public int schemaId() {
    return schemaId;
  }
}
