package io.saestream.sae.checkpoint;

/**
 * Bit-exact conversions between float32 and the 16-bit float formats of safetensors: IEEE 754
 * binary16 ({@link DType#F16}) and bfloat16 ({@link DType#BF16}). Widening is exact; narrowing
 * rounds to nearest, ties to even, as torch does. (Java 17 has no {@code Float.float16ToFloat}.)
 * Stateless and thread-safe.
 */
public final class HalfPrecision {

  private HalfPrecision() {}

  /** The exact float32 value of the binary16 bits {@code h} (NaN payloads are preserved). */
  public static float f16ToFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp != 0) {
      return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
    if (mant == 0) {
      return Float.intBitsToFloat(sign);
    }
    // Subnormal binary16: mant * 2^-24 is exactly representable as a normal float32.
    float magnitude = mant * 0x1p-24f;
    return sign == 0 ? magnitude : -magnitude;
  }

  /** The binary16 bits nearest to {@code f} (ties to even; overflow to infinity; NaN stays NaN). */
  public static short floatToF16(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int exp = (bits >>> 23) & 0xff;
    int mant = bits & 0x7fffff;
    if (exp == 0xff) {
      if (mant == 0) {
        return (short) (sign | 0x7c00);
      }
      // Keep the top payload bits and force a quiet NaN so the result is never infinity.
      return (short) (sign | 0x7c00 | 0x200 | (mant >>> 13));
    }
    int e = exp - 127 + 15;
    if (e >= 0x1f) {
      return (short) (sign | 0x7c00);
    }
    if (e <= 0) {
      if (e < -10) {
        // Below half of the smallest subnormal (2^-25): rounds to zero.
        return (short) sign;
      }
      int m = mant | 0x800000;
      int shift = 14 - e;
      int half = m >>> shift;
      int rest = m & ((1 << shift) - 1);
      int midpoint = 1 << (shift - 1);
      if (rest > midpoint || (rest == midpoint && (half & 1) != 0)) {
        half++;
      }
      return (short) (sign | half);
    }
    int half = (e << 10) | (mant >>> 13);
    int rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) {
      // May carry into the exponent, and from the largest finite value into infinity: both right.
      half++;
    }
    return (short) (sign | half);
  }

  /** The exact float32 value of the bfloat16 bits {@code b}. */
  public static float bf16ToFloat(short b) {
    return Float.intBitsToFloat((b & 0xffff) << 16);
  }

  /** The bfloat16 bits nearest to {@code f} (ties to even; NaN stays NaN). */
  public static short floatToBf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if ((bits & 0x7fffffff) > 0x7f800000) {
      return (short) ((bits >>> 16) | 0x40);
    }
    int rounded = bits + 0x7fff + ((bits >>> 16) & 1);
    return (short) (rounded >>> 16);
  }

  /** {@code f} rounded to the nearest value of {@code dtype}, as a float (F32/F64: unchanged). */
  public static float roundTo(DType dtype, float f) {
    return switch (dtype) {
      case F16 -> f16ToFloat(floatToF16(f));
      case BF16 -> bf16ToFloat(floatToBf16(f));
      case F32, F64 -> f;
    };
  }
}
