package io.saestream.sae.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.IntToDoubleFunction;
import org.junit.jupiter.api.Test;

/**
 * Bit-level checks of the 16-bit float conversions against references written from the format
 * definitions (sign, exponent, mantissa), not from the implementation's bit tricks.
 */
class HalfPrecisionTest {

  /** IEEE binary16 by definition: 5 exponent bits (bias 15), 10 mantissa bits. */
  private static double f16Reference(int bits) {
    return reference16(bits, 10);
  }

  /** bfloat16 by definition: 8 exponent bits (bias 127), 7 mantissa bits. */
  private static double bf16Reference(int bits) {
    return reference16(bits, 7);
  }

  /**
   * A 16-bit IEEE-style float with {@code m} mantissa bits and {@code 15 - m} exponent bits: {@code
   * (-1)^s * 2^(e-bias) * (1 + m/2^mBits)}, subnormals {@code 2^(1-bias) * m/2^mBits}, all-ones
   * exponent for the infinities and NaN.
   */
  private static double reference16(int bits, int mantissaBits) {
    int exponentBits = 15 - mantissaBits;
    int maxExponent = (1 << exponentBits) - 1;
    int bias = maxExponent >> 1;
    double scale = 1 << mantissaBits;
    int s = (bits >> 15) & 1;
    int e = (bits >> mantissaBits) & maxExponent;
    int m = bits & ((1 << mantissaBits) - 1);
    double sign = s == 1 ? -1 : 1;
    if (e == maxExponent) {
      return m == 0 ? sign * Double.POSITIVE_INFINITY : Double.NaN;
    }
    if (e == 0) {
      return sign * Math.scalb(m / scale, 1 - bias);
    }
    return sign * Math.scalb(1 + m / scale, e - bias);
  }

  @Test
  void everyF16ValueWidensExactly() {
    assertEveryValueWidensExactly(HalfPrecision::f16ToFloat, HalfPrecisionTest::f16Reference);
  }

  @Test
  void everyBf16ValueWidensExactly() {
    assertEveryValueWidensExactly(HalfPrecision::bf16ToFloat, HalfPrecisionTest::bf16Reference);
  }

  /** Each of the 65536 bit patterns widens to exactly the value its format definition gives. */
  private static void assertEveryValueWidensExactly(
      ShortWidening widen, IntToDoubleFunction reference) {
    for (int bits = 0; bits < 1 << 16; bits++) {
      float got = widen.apply((short) bits);
      double want = reference.applyAsDouble(bits);
      if (Double.isNaN(want)) {
        assertThat(got).as("0x%04x", bits).isNaN();
      } else {
        assertThat(Float.floatToRawIntBits(got))
            .as("0x%04x", bits)
            .isEqualTo(Float.floatToRawIntBits((float) want));
        assertThat((double) got).as("0x%04x", bits).isEqualTo(want);
      }
    }
  }

  /** A 16-bit pattern to float conversion. */
  @FunctionalInterface
  private interface ShortWidening {
    float apply(short bits);
  }

  @Test
  void everyFiniteF16AndBf16ValueNarrowsBackToItself() {
    for (int bits = 0; bits < 1 << 16; bits++) {
      float h = HalfPrecision.f16ToFloat((short) bits);
      if (!Float.isNaN(h)) {
        assertThat(HalfPrecision.floatToF16(h) & 0xffff).as("f16 0x%04x", bits).isEqualTo(bits);
      } else {
        assertThat(HalfPrecision.f16ToFloat(HalfPrecision.floatToF16(h))).isNaN();
      }
      float b = HalfPrecision.bf16ToFloat((short) bits);
      if (!Float.isNaN(b)) {
        assertThat(HalfPrecision.floatToBf16(b) & 0xffff).as("bf16 0x%04x", bits).isEqualTo(bits);
      } else {
        assertThat(HalfPrecision.bf16ToFloat(HalfPrecision.floatToBf16(b))).isNaN();
      }
    }
  }

  /** Nearest representable value by search, ties to the even bit pattern. */
  private static int nearest(double[] sortedValues, int[] bitsOf, double x) {
    int i = Arrays.binarySearch(sortedValues, x);
    if (i >= 0) {
      return bitsOf[i];
    }
    int hi = -i - 1;
    int lo = hi - 1;
    if (lo < 0) {
      return bitsOf[hi];
    }
    if (hi >= sortedValues.length) {
      return bitsOf[lo];
    }
    double dLo = x - sortedValues[lo];
    double dHi = sortedValues[hi] - x;
    if (dLo != dHi) {
      return dLo < dHi ? bitsOf[lo] : bitsOf[hi];
    }
    return (bitsOf[lo] & 1) == 0 ? bitsOf[lo] : bitsOf[hi];
  }

  private static void checkNarrowing(boolean f16) {
    // Positive finite values plus the overflow threshold as a pseudo-value (rounds to infinity).
    int count = f16 ? 0x7c00 : 0x7f80;
    double[] values = new double[count + 1];
    int[] bits = new int[count + 1];
    for (int b = 0; b < count; b++) {
      values[b] = f16 ? f16Reference(b) : bf16Reference(b);
      bits[b] = b;
    }
    values[count] = f16 ? 65536.0 : Math.scalb(1.0, 128); // "infinity" at the next binade
    bits[count] = count;
    SplittableRandom r = new SplittableRandom(1234);
    int checked = 0;
    for (int i = 0; i < 400_000; i++) {
      float x;
      if (i % 4 == 0) {
        // Exact midpoints between neighbours and their float neighbours: the tie-breaking cases.
        int b = r.nextInt(count);
        double mid = (values[b] + values[b + 1]) / 2;
        float m = (float) mid;
        x = (i % 8 == 0) ? m : (i % 3 == 0 ? Math.nextUp(m) : Math.nextDown(m));
      } else {
        x = Float.intBitsToFloat(r.nextInt() & 0x7fffffff);
      }
      if (Float.isNaN(x)) {
        continue;
      }
      int want = Float.isInfinite(x) ? count : nearest(values, bits, x);
      int got = (f16 ? HalfPrecision.floatToF16(x) : HalfPrecision.floatToBf16(x)) & 0xffff;
      assertThat(got)
          .as("%s of %s (0x%08x)", f16 ? "f16" : "bf16", x, Float.floatToRawIntBits(x))
          .isEqualTo(want);
      int gotNeg = (f16 ? HalfPrecision.floatToF16(-x) : HalfPrecision.floatToBf16(-x)) & 0xffff;
      assertThat(gotNeg).isEqualTo(want | 0x8000);
      checked++;
    }
    assertThat(checked).isGreaterThan(300_000);
  }

  @Test
  void floatToF16RoundsToNearestEven() {
    checkNarrowing(true);
    assertThat(HalfPrecision.floatToF16(Math.nextDown(65520f))).isEqualTo((short) 0x7bff);
    assertThat(HalfPrecision.floatToF16(65520f)).isEqualTo((short) 0x7c00);
    assertThat(HalfPrecision.floatToF16(0x1p-25f)).isEqualTo((short) 0);
    assertThat(HalfPrecision.floatToF16(Math.nextUp(0x1p-25f))).isEqualTo((short) 1);
  }

  @Test
  void floatToBf16RoundsToNearestEven() {
    checkNarrowing(false);
    assertThat(HalfPrecision.floatToBf16(Float.MAX_VALUE)).isEqualTo((short) 0x7f80);
    assertThat(HalfPrecision.floatToBf16(Float.NaN) & 0x7fc0).isEqualTo(0x7fc0);
  }

  @Test
  void roundToKeepsF32AndNarrowsHalfTypes() {
    assertThat(HalfPrecision.roundTo(DType.F32, 0.1f)).isEqualTo(0.1f);
    assertThat(HalfPrecision.roundTo(DType.BF16, 0.1f)).isEqualTo(Float.intBitsToFloat(0x3dcd0000));
    assertThat(HalfPrecision.roundTo(DType.F16, 0.1f)).isEqualTo(0x1.998p-4f);
  }

  /** standard_bf16: every BF16 weight reads as its exact float32 (the bits shifted into place). */
  @Test
  void standardBf16FixtureReadsToExactFloat32() throws IOException {
    Path file = Fixtures.sae("standard_bf16").resolve(SaeCheckpoint.WEIGHTS_FILE);
    byte[] bytes = Files.readAllBytes(file);
    try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
      assertThat(f.tensors()).hasSize(4);
      for (SafeTensorsFile.MappedTensor t : f.tensors().values()) {
        assertThat(t.dtype()).isEqualTo(DType.BF16);
        float[] got = t.toFloatArray();
        ByteBuffer raw =
            ByteBuffer.wrap(bytes, (int) t.fileOffset(), (int) t.byteSize())
                .order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < got.length; i++) {
          int b = raw.getShort() & 0xffff;
          assertThat((double) got[i]).as("%s[%d]", t.name(), i).isEqualTo(bf16Reference(b));
        }
      }
    }
  }
}
