package io.saestream.schema.serde;

import org.jspecify.annotations.Nullable;

/** A record ends before its 5-byte header or its Avro body is complete. */
public final class TruncatedPayloadException extends WireFormatException {

  private static final long serialVersionUID = 1L;

  private final int length;

  TruncatedPayloadException(int length, String detail, @Nullable Throwable cause) {
    super(Reason.TRUNCATED_PAYLOAD, "truncated record of " + length + " bytes: " + detail, cause);
    this.length = length;
  }

  /** Length in bytes of the record, header included. */
  public int length() {
    return length;
  }
}
