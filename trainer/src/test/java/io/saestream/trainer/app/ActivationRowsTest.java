package io.saestream.trainer.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.saestream.schema.v1.Dtype;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class ActivationRowsTest {

  @Test
  void halfPrecisionValuesDecodeExactly() {
    // Exact binary16 encodings: 1, -2, 0.5, 65504 (max), 2^-24 (smallest subnormal), -0.
    short[] bits = {0x3c00, (short) 0xc000, 0x3800, 0x7bff, 0x0001, (short) 0x8000};
    float[] expected = {1f, -2f, 0.5f, 65504f, 0x1p-24f, -0f};
    ByteBuffer b = ByteBuffer.allocate(bits.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (short s : bits) {
      b.putShort(s);
    }
    b.flip();
    float[] out = new float[bits.length];
    assertThat(ActivationRows.decode(Dtype.F16, b, bits.length, out)).isTrue();
    assertThat(out).containsExactly(expected);
  }

  @Test
  void bfloat16IsTheUpperHalfOfAFloat() {
    float[] values = {1.5f, -3.25f, 1e-3f};
    ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putShort((short) (Float.floatToIntBits(v) >>> 16));
    }
    b.flip();
    float[] out = new float[values.length];
    assertThat(ActivationRows.decode(Dtype.BF16, b, values.length, out)).isTrue();
    assertThat(out[0]).isEqualTo(1.5f);
    assertThat(out[1]).isEqualTo(-3.25f);
    // Truncation keeps 8 mantissa bits: relative error below 2^-7.
    assertThat(Math.abs(out[2] - 1e-3f) / 1e-3f).isLessThan(1f / 128);
  }

  @Test
  void nonFiniteValuesAreReported() {
    ByteBuffer f32 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    f32.putFloat(1f).putFloat(Float.NaN).flip();
    assertThat(ActivationRows.decode(Dtype.F32, f32, 2, new float[2])).isFalse();
    ByteBuffer f16 = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN);
    f16.putShort((short) 0x7c00).flip(); // +infinity
    float[] out = new float[1];
    assertThat(ActivationRows.decode(Dtype.F16, f16, 1, out)).isFalse();
    assertThat(out[0]).isEqualTo(Float.POSITIVE_INFINITY);
  }

  @Test
  void decodingDoesNotConsumeTheBuffer() {
    ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
    b.putFloat(2f).flip();
    ActivationRows.decode(Dtype.F32, b, 1, new float[1]);
    assertThat(b.remaining()).isEqualTo(4);
  }
}
