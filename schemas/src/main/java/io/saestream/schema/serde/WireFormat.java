package io.saestream.schema.serde;

import java.util.Objects;

/**
 * The Confluent wire format: byte 0 is the magic byte 0, bytes 1 to 4 the big-endian registry
 * schema id, then the Avro binary encoding of the record.
 */
public final class WireFormat {

  /** Value of byte 0. */
  public static final byte MAGIC_BYTE = 0;

  /** Length of the header: magic byte and schema id. */
  public static final int HEADER_LENGTH = 5;

  private WireFormat() {}

  /**
   * Reads the schema id from the header of {@code record}.
   *
   * @throws UnknownMagicByteException if byte 0 is not {@link #MAGIC_BYTE}
   * @throws TruncatedPayloadException if the record is shorter than the header
   */
  public static int schemaIdOf(byte[] record) {
    Objects.requireNonNull(record, "record");
    if (record.length == 0) {
      throw new TruncatedPayloadException(0, "no magic byte", null);
    }
    if (record[0] != MAGIC_BYTE) {
      throw new UnknownMagicByteException(record[0]);
    }
    if (record.length < HEADER_LENGTH) {
      throw new TruncatedPayloadException(
          record.length, "header needs " + HEADER_LENGTH + " bytes", null);
    }
    return ((record[1] & 0xff) << 24)
        | ((record[2] & 0xff) << 16)
        | ((record[3] & 0xff) << 8)
        | (record[4] & 0xff);
  }

  static void writeHeader(byte[] target, int schemaId) {
    target[0] = MAGIC_BYTE;
    target[1] = (byte) (schemaId >>> 24);
    target[2] = (byte) (schemaId >>> 16);
    target[3] = (byte) (schemaId >>> 8);
    target[4] = (byte) schemaId;
  }
}
