package io.saestream.streams.monitoring;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A growable big-endian byte array for the monitor's internal binary formats: unsigned varints
 * (LEB128) for counts and small numbers, fixed-width floats and doubles. Unsynchronized and
 * allocation-free between growths; one instance per thread.
 */
final class WireWriter {

  private static final VarHandle INT =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
  private static final VarHandle LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

  private byte[] buf;
  private int size;

  /** A writer with {@code capacity} bytes to start with. */
  WireWriter(int capacity) {
    this.buf = new byte[Math.max(16, capacity)];
  }

  /** Bytes written. */
  int size() {
    return size;
  }

  /** A copy of the bytes written. */
  byte[] toByteArray() {
    return Arrays.copyOf(buf, size);
  }

  WireWriter u8(int v) {
    ensure(1);
    buf[size++] = (byte) v;
    return this;
  }

  /** An unsigned varint; {@code v} must be ≥ 0. */
  WireWriter varint(int v) {
    if (v < 0) {
      throw new IllegalArgumentException("varint must be >= 0, was " + v);
    }
    return varlong(v);
  }

  /** An unsigned varint of a long; {@code v} must be ≥ 0. */
  WireWriter varlong(long v) {
    if (v < 0) {
      throw new IllegalArgumentException("varint must be >= 0, was " + v);
    }
    ensure(10);
    while ((v & ~0x7FL) != 0) {
      buf[size++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    buf[size++] = (byte) v;
    return this;
  }

  WireWriter i32(int v) {
    ensure(4);
    INT.set(buf, size, v);
    size += 4;
    return this;
  }

  WireWriter i64(long v) {
    ensure(8);
    LONG.set(buf, size, v);
    size += 8;
    return this;
  }

  WireWriter f32(float v) {
    return i32(Float.floatToRawIntBits(v));
  }

  WireWriter f64(double v) {
    return i64(Double.doubleToRawLongBits(v));
  }

  /** UTF-8 bytes after their length as a varint. */
  WireWriter string(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    varint(b.length);
    ensure(b.length);
    System.arraycopy(b, 0, buf, size, b.length);
    size += b.length;
    return this;
  }

  private void ensure(int more) {
    if (size + more > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + more));
    }
  }
}
