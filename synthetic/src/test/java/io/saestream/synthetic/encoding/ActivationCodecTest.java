package io.saestream.synthetic.encoding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.schema.v1.Dtype;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ActivationCodecTest {

  @TempDir Path dir;

  @Test
  void f32IsLittleEndianIeeeAndRoundTripsEveryValueExactly() {
    byte[] one = ActivationCodec.encode(new float[] {1.0f}, 0, 1, Dtype.F32);
    assertThat(one).containsExactly(0x00, 0x00, 0x80, 0x3f);
    float[] values = {
      0f, -0f, 1.5f, -3.25e-3f, Float.MIN_VALUE, Float.MAX_VALUE, Float.NEGATIVE_INFINITY, Float.NaN
    };
    float[] back =
        ActivationCodec.decode(
            ByteBuffer.wrap(ActivationCodec.encode(values, 0, values.length, Dtype.F32)),
            Dtype.F32);
    for (int i = 0; i < values.length; i++) {
      assertThat(Float.floatToRawIntBits(back[i])).isEqualTo(Float.floatToRawIntBits(values[i]));
    }
  }

  @Test
  void f16AndBf16AreLittleEndian() {
    assertThat(ActivationCodec.encode(new float[] {1.0f}, 0, 1, Dtype.F16))
        .containsExactly(0x00, 0x3c);
    assertThat(ActivationCodec.encode(new float[] {1.0f}, 0, 1, Dtype.BF16))
        .containsExactly(0x80, 0x3f);
  }

  @Test
  void everyHalfSurvivesHalfToFloatToHalf() {
    for (int bits = 0; bits < 0x10000; bits++) {
      short half = (short) bits;
      float f = ActivationCodec.halfToFloat(half);
      if (Float.isNaN(f)) {
        assertThat(ActivationCodec.halfToFloat(ActivationCodec.floatToHalf(f))).isNaN();
      } else {
        assertThat(ActivationCodec.floatToHalf(f)).as("half 0x%04x", bits).isEqualTo(half);
      }
    }
  }

  @Test
  void everyBfloat16SurvivesBfloat16ToFloatToBfloat16() {
    for (int bits = 0; bits < 0x10000; bits++) {
      short bf = (short) bits;
      float f = ActivationCodec.bfloat16ToFloat(bf);
      if (Float.isNaN(f)) {
        assertThat(ActivationCodec.bfloat16ToFloat(ActivationCodec.floatToBfloat16(f))).isNaN();
      } else {
        assertThat(ActivationCodec.floatToBfloat16(f)).as("bf16 0x%04x", bits).isEqualTo(bf);
      }
    }
  }

  @Test
  void halfKnownValuesAndTiesRoundToEven() {
    assertThat(half(1.0f)).isEqualTo(1.0f);
    assertThat(half(65504f)).isEqualTo(65504f);
    assertThat(half(65519.99f)).isEqualTo(65504f);
    assertThat(half(65520f)).isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(half(-1e6f)).isEqualTo(Float.NEGATIVE_INFINITY);
    assertThat(half(0x1p-14f)).isEqualTo(0x1p-14f); // smallest normal
    assertThat(half(0x1p-24f)).isEqualTo(0x1p-24f); // smallest subnormal
    // Ties: halfway between 1 and 1 + 2^-10 goes to the even 1; 1 + 3·2^-11 to 1 + 2^-9.
    assertThat(half(1f + 0x1p-11f)).isEqualTo(1f);
    assertThat(half(1f + 3 * 0x1p-11f)).isEqualTo(1f + 0x1p-9f);
    // Subnormal ties: 2^-25 (halfway to 2^-24) goes to 0; 3·2^-25 goes to 2·2^-24.
    assertThat(half(0x1p-25f)).isEqualTo(0f);
    assertThat(half(3 * 0x1p-25f)).isEqualTo(0x1p-23f);
    // Rounding up out of the subnormals into the smallest normal.
    assertThat(half(0x1p-14f - 0x1p-26f)).isEqualTo(0x1p-14f);
    assertThat(Float.floatToRawIntBits(half(-0f))).isEqualTo(Float.floatToRawIntBits(-0f));
    assertThat(half(Float.NaN)).isNaN();
  }

  @Test
  void halfRoundsRandomFloatsToTheNearestHalf() {
    SplittableRandom rng = new SplittableRandom(1);
    for (int i = 0; i < 200_000; i++) {
      // Magnitudes across the whole finite half range (below 65520, which rounds to infinity),
      // subnormals included.
      float f = (float) ((rng.nextBoolean() ? 1 : -1) * Math.pow(2, rng.nextDouble(-26, 15.99)));
      short h = ActivationCodec.floatToHalf(f);
      double error = Math.abs((double) ActivationCodec.halfToFloat(h) - f);
      for (int neighbour : new int[] {h - 1, h + 1}) {
        float other = ActivationCodec.halfToFloat((short) neighbour);
        if (!Float.isNaN(other) && Math.signum(other) == Math.signum(f)) {
          assertThat(error)
              .as("%s -> %s", f, ActivationCodec.halfToFloat(h))
              .isLessThanOrEqualTo(Math.abs((double) other - f));
        }
      }
    }
  }

  @Test
  void halfRoundsExactlyAsNumpyDoes() throws IOException {
    float[] x = readColumn("numpy-rounding-f4.npy");
    float[] numpy = readColumn("numpy-rounding-f2.npy");
    assertThat(x).hasSize(4096);
    for (int i = 0; i < x.length; i++) {
      assertThat(Float.floatToRawIntBits(half(x[i])))
          .as("float16 of %s", x[i])
          .isEqualTo(Float.floatToRawIntBits(numpy[i]));
    }
  }

  private float[] readColumn(String resource) throws IOException {
    Path file = dir.resolve(resource);
    try (InputStream in =
        Objects.requireNonNull(getClass().getResourceAsStream("/npy/" + resource), resource)) {
      Files.copy(in, file);
    }
    try (NpyActivationFile npy = NpyActivationFile.open(file)) {
      float[] values = new float[(int) npy.rows()];
      assertThat(npy.read(values, values.length)).isEqualTo(values.length);
      return values;
    }
  }

  @Test
  void bfloat16KnownValuesAndTiesRoundToEven() {
    assertThat(bf(1.0f)).isEqualTo(1.0f);
    assertThat(bf(1f + 0x1p-8f)).isEqualTo(1f);
    assertThat(bf(1f + 3 * 0x1p-8f)).isEqualTo(1f + 0x1p-6f);
    assertThat(bf(1f + 0x1p-8f + 0x1p-20f)).isEqualTo(1f + 0x1p-7f);
    assertThat(bf(Float.MAX_VALUE)).isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(bf(Float.NaN)).isNaN();
    assertThat(bf(-2.5f)).isEqualTo(-2.5f);
  }

  @ParameterizedTest
  @EnumSource(Dtype.class)
  void encodeThenDecodeRoundTripsWithinTheDtypePrecision(Dtype dtype) {
    SplittableRandom rng = new SplittableRandom(2);
    float[] values = new float[1000];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (rng.nextGaussian() * 3);
    }
    byte[] bytes = ActivationCodec.encode(values, 100, 800, dtype);
    assertThat(bytes).hasSize(800 * ActivationCodec.bytesPerElement(dtype));
    float[] back = ActivationCodec.decode(ByteBuffer.wrap(bytes), dtype);
    assertThat(back).hasSize(800);
    // Relative precision: 2^-24 (F32), 2^-11 (F16), 2^-8 (BF16), i.e. half an ulp.
    double relative =
        switch (dtype) {
          case F32 -> 0x1p-24;
          case F16 -> 0x1p-11;
          case BF16 -> 0x1p-8;
        };
    for (int i = 0; i < back.length; i++) {
      float x = values[100 + i];
      assertThat((double) Math.abs(back[i] - x))
          .isLessThanOrEqualTo(Math.abs(x) * relative + 0x1p-25);
    }
  }

  @Test
  void decodeReadsTheRemainingBytesWithoutMovingTheBuffer() {
    ByteBuffer buffer =
        ByteBuffer.wrap(ActivationCodec.encode(new float[] {1, 2, 3}, 0, 3, Dtype.F32));
    buffer.position(4);
    assertThat(ActivationCodec.decode(buffer, Dtype.F32)).containsExactly(2f, 3f);
    assertThat(buffer.position()).isEqualTo(4);
  }

  @Test
  void decodeRejectsAPartialElement() {
    assertThatThrownBy(() -> ActivationCodec.decode(ByteBuffer.allocate(7), Dtype.F32))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("7 bytes of data are not a whole number of 4-byte F32s");
    assertThatThrownBy(() -> ActivationCodec.decode(ByteBuffer.allocate(3), Dtype.BF16))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("3 bytes of data are not a whole number of 2-byte BF16s");
  }

  @Test
  void encodeRejectsARangeOutsideTheArray() {
    assertThatThrownBy(() -> ActivationCodec.encode(new float[4], 2, 3, Dtype.F16))
        .isInstanceOf(IndexOutOfBoundsException.class);
  }

  private static float half(float f) {
    return ActivationCodec.halfToFloat(ActivationCodec.floatToHalf(f));
  }

  private static float bf(float f) {
    return ActivationCodec.bfloat16ToFloat(ActivationCodec.floatToBfloat16(f));
  }
}
