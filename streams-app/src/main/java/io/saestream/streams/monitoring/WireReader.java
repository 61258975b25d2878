package io.saestream.streams.monitoring;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Reads what {@link WireWriter} wrote. Every read is bounds-checked: truncated or corrupt input
 * raises {@link IllegalArgumentException} naming what was being read, never an index error or a
 * huge allocation.
 */
final class WireReader {

  private static final VarHandle INT =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
  private static final VarHandle LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

  private final byte[] buf;
  private int pos;

  WireReader(byte[] bytes) {
    this.buf = bytes;
  }

  /** Bytes not read yet. */
  int remaining() {
    return buf.length - pos;
  }

  int u8() {
    need(1, "a byte");
    return buf[pos++] & 0xFF;
  }

  int varint() {
    long v = varlong();
    if (v > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("varint out of int range: " + v);
    }
    return (int) v;
  }

  long varlong() {
    long v = 0;
    for (int shift = 0; shift < 63; shift += 7) {
      need(1, "a varint");
      int b = buf[pos++];
      v |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return v;
      }
    }
    throw new IllegalArgumentException("varint longer than 9 bytes");
  }

  /**
   * A count that must be at most {@code max} and cannot exceed the bytes left when each element
   * takes at least {@code minBytesEach}.
   */
  int count(String what, int max, int minBytesEach) {
    int n = varint();
    if (n > max || (long) n * minBytesEach > remaining()) {
      throw new IllegalArgumentException(what + " out of range: " + n);
    }
    return n;
  }

  int i32() {
    need(4, "an int");
    int v = (int) INT.get(buf, pos);
    pos += 4;
    return v;
  }

  long i64() {
    need(8, "a long");
    long v = (long) LONG.get(buf, pos);
    pos += 8;
    return v;
  }

  float f32() {
    return Float.intBitsToFloat(i32());
  }

  double f64() {
    return Double.longBitsToDouble(i64());
  }

  String string() {
    int n = count("string length", Integer.MAX_VALUE, 1);
    String s = new String(buf, pos, n, StandardCharsets.UTF_8);
    pos += n;
    return s;
  }

  /** Fails unless every byte was read. */
  void end(String what) {
    if (pos != buf.length) {
      throw new IllegalArgumentException(
          what + ": " + (buf.length - pos) + " bytes left over after the last field");
    }
  }

  private void need(int n, String what) {
    if (buf.length - pos < n) {
      throw new IllegalArgumentException("truncated: needed " + what + " at byte " + pos);
    }
  }
}
