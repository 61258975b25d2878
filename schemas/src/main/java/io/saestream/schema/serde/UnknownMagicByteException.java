package io.saestream.schema.serde;

/** Byte 0 of a record is not the Confluent magic byte 0; the producer did not use the format. */
public final class UnknownMagicByteException extends WireFormatException {

  private static final long serialVersionUID = 1L;

  private final byte magicByte;

  UnknownMagicByteException(byte magicByte) {
    super(
        Reason.UNKNOWN_MAGIC_BYTE,
        "unknown magic byte 0x"
            + String.format("%02x", magicByte & 0xff)
            + ", expected 0x00 (Confluent wire format)",
        null);
    this.magicByte = magicByte;
  }

  /** The byte found where the magic byte should be. */
  public byte magicByte() {
    return magicByte;
  }
}
