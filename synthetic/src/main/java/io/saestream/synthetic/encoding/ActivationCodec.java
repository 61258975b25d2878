package io.saestream.synthetic.encoding;

import io.saestream.schema.v1.Dtype;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Converts activation rows between {@code float[]} and the {@code data} bytes of an {@code
 * ActivationBatch}: row-major, little-endian elements of the batch's {@link Dtype}. Half-precision
 * conversions round to nearest, ties to even, as IEEE 754 (and PyTorch's {@code .half()} and {@code
 * .bfloat16()}) do; they run over primitive arrays, never boxing. Stateless and thread-safe.
 */
public final class ActivationCodec {

  private ActivationCodec() {}

  /** Bytes per element of {@code dtype}. */
  public static int bytesPerElement(Dtype dtype) {
    return switch (Objects.requireNonNull(dtype, "dtype")) {
      case F32 -> 4;
      case F16, BF16 -> 2;
    };
  }

  /** Encodes {@code values[offset, offset + length)} as little-endian {@code dtype} elements. */
  public static byte[] encode(float[] values, int offset, int length, Dtype dtype) {
    Objects.checkFromIndexSize(offset, length, values.length);
    int width = bytesPerElement(dtype);
    if ((long) length * width > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(length + " " + dtype + " elements do not fit one array");
    }
    byte[] out = new byte[length * width];
    ByteBuffer buffer = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    switch (dtype) {
      case F32 -> buffer.asFloatBuffer().put(values, offset, length);
      case F16 -> {
        short[] halves = new short[length];
        floatsToHalves(values, offset, halves, 0, length);
        buffer.asShortBuffer().put(halves);
      }
      case BF16 -> {
        short[] halves = new short[length];
        floatsToBfloat16s(values, offset, halves, 0, length);
        buffer.asShortBuffer().put(halves);
      }
    }
    return out;
  }

  /**
   * Decodes every remaining byte of {@code data} (its position is left unchanged) as little-endian
   * {@code dtype} elements.
   *
   * @throws IllegalArgumentException if the byte count is not a multiple of the element size
   */
  public static float[] decode(ByteBuffer data, Dtype dtype) {
    int width = bytesPerElement(dtype);
    ByteBuffer buffer = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int bytes = buffer.remaining();
    if (bytes % width != 0) {
      throw new IllegalArgumentException(
          bytes + " bytes of data are not a whole number of " + width + "-byte " + dtype + "s");
    }
    int length = bytes / width;
    float[] out = new float[length];
    switch (dtype) {
      case F32 -> buffer.asFloatBuffer().get(out);
      case F16 -> {
        short[] halves = new short[length];
        buffer.asShortBuffer().get(halves);
        halvesToFloats(halves, 0, out, 0, length);
      }
      case BF16 -> {
        short[] halves = new short[length];
        buffer.asShortBuffer().get(halves);
        bfloat16sToFloats(halves, 0, out, 0, length);
      }
    }
    return out;
  }

  /** Converts {@code length} floats to IEEE binary16 bit patterns. */
  public static void floatsToHalves(float[] src, int srcAt, short[] dst, int dstAt, int length) {
    Objects.checkFromIndexSize(srcAt, length, src.length);
    Objects.checkFromIndexSize(dstAt, length, dst.length);
    for (int i = 0; i < length; i++) {
      dst[dstAt + i] = floatToHalf(src[srcAt + i]);
    }
  }

  /** Converts {@code length} IEEE binary16 bit patterns to floats (exactly). */
  public static void halvesToFloats(short[] src, int srcAt, float[] dst, int dstAt, int length) {
    Objects.checkFromIndexSize(srcAt, length, src.length);
    Objects.checkFromIndexSize(dstAt, length, dst.length);
    for (int i = 0; i < length; i++) {
      dst[dstAt + i] = halfToFloat(src[srcAt + i]);
    }
  }

  /** Converts {@code length} floats to bfloat16 bit patterns. */
  public static void floatsToBfloat16s(float[] src, int srcAt, short[] dst, int dstAt, int length) {
    Objects.checkFromIndexSize(srcAt, length, src.length);
    Objects.checkFromIndexSize(dstAt, length, dst.length);
    for (int i = 0; i < length; i++) {
      dst[dstAt + i] = floatToBfloat16(src[srcAt + i]);
    }
  }

  /** Converts {@code length} bfloat16 bit patterns to floats (exactly). */
  public static void bfloat16sToFloats(short[] src, int srcAt, float[] dst, int dstAt, int length) {
    Objects.checkFromIndexSize(srcAt, length, src.length);
    Objects.checkFromIndexSize(dstAt, length, dst.length);
    for (int i = 0; i < length; i++) {
      dst[dstAt + i] = bfloat16ToFloat(src[srcAt + i]);
    }
  }

  /**
   * The binary16 nearest to {@code value} (ties to even); beyond ±65504 rounds to ±infinity, NaN
   * stays NaN (quiet, with the top payload bits kept).
   */
  public static short floatToHalf(float value) {
    int bits = Float.floatToRawIntBits(value);
    int sign = (bits >>> 16) & 0x8000;
    int abs = bits & 0x7fff_ffff;
    int half;
    if (abs >= 0x4780_0000) { // >= 65536: infinity, NaN, or certainly rounds to infinity
      half = abs > 0x7f80_0000 ? 0x7e00 | ((abs >>> 13) & 0x3ff) : 0x7c00;
    } else if (abs < 0x3880_0000) { // < 2^-14: a subnormal half or zero
      // Adding 0.5 aligns the 10 kept bits at the bottom of the float's mantissa, and the FPU's
      // own round-to-nearest-even rounds them; subtracting 0.5's bits leaves the half's bits.
      half = Float.floatToRawIntBits(Float.intBitsToFloat(abs) + 0.5f) - 0x3f00_0000;
    } else {
      int mantissaOdd = (abs >>> 13) & 1;
      // Rebias the exponent from 127 to 15, add just under half an ulp plus the odd bit so that
      // ties round to even; a carry out of the mantissa bumps the exponent, up to infinity.
      abs += ((15 - 127) << 23) + 0xfff + mantissaOdd;
      half = abs >>> 13;
    }
    return (short) (sign | half);
  }

  /** The float value of a binary16 bit pattern (exact: every half is a float). */
  public static float halfToFloat(short half) {
    int bits = half & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exponent = (bits >>> 10) & 0x1f;
    int mantissa = bits & 0x3ff;
    if (exponent == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f80_0000 | (mantissa << 13));
    }
    if (exponent == 0) {
      float magnitude = mantissa * 0x1p-24f; // zero or subnormal: exact in float
      return sign != 0 ? -magnitude : magnitude;
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }

  /** The bfloat16 nearest to {@code value} (ties to even); NaN stays NaN (quiet). */
  public static short floatToBfloat16(float value) {
    int bits = Float.floatToRawIntBits(value);
    if ((bits & 0x7fff_ffff) > 0x7f80_0000) {
      return (short) ((bits >>> 16) | 0x0040);
    }
    int lsb = (bits >>> 16) & 1;
    return (short) ((bits + 0x7fff + lsb) >>> 16);
  }

  /** The float value of a bfloat16 bit pattern (exact). */
  public static float bfloat16ToFloat(short value) {
    return Float.intBitsToFloat((value & 0xffff) << 16);
  }
}
