package io.saestream.schema.serde;

import org.apache.kafka.common.errors.SerializationException;
import org.jspecify.annotations.Nullable;

/**
 * A record's bytes are not a readable Confluent-wire-format Avro record: the record itself is bad
 * (a dead letter), not the infrastructure. {@link #reason()} names the cause for routing and
 * metrics without {@code instanceof} chains.
 */
public abstract sealed class WireFormatException extends SerializationException
    permits UnknownMagicByteException,
        TruncatedPayloadException,
        UnknownSchemaIdException,
        SchemaMismatchException,
        MalformedPayloadException {

  private static final long serialVersionUID = 1L;

  /** Why a record could not be decoded; one constant per subclass. */
  public enum Reason {
    /** Byte 0 is not the magic byte 0: not Confluent wire format. */
    UNKNOWN_MAGIC_BYTE,
    /** The bytes end before the header or the Avro record is complete. */
    TRUNCATED_PAYLOAD,
    /** The registry knows no schema with the id in the header. */
    UNKNOWN_SCHEMA_ID,
    /** The writer schema cannot be read as the reader schema. */
    SCHEMA_MISMATCH,
    /** The Avro body does not decode under its writer schema. */
    MALFORMED_PAYLOAD
  }

  private final Reason reason;

  WireFormatException(Reason reason, String message, @Nullable Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  /** The cause of the failure, stable for use as a dead-letter reason. */
  public Reason reason() {
    return reason;
  }
}
