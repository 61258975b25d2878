package io.saestream.streams.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.schema.v1.Dtype;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

class ActivationBufferTest {

  private final ActivationBuffer buffer = new ActivationBuffer();

  @Test
  void float32IsCopiedExactlyAcrossChunks() {
    int n = ActivationBuffer.CHUNK * 2 + 17;
    ByteBuffer data = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      data.putFloat(i * 0.5f - 1000f);
    }
    data.flip();

    assertThat(buffer.load(data, Dtype.F32, n)).isEqualTo(-1);

    FloatBuffer floats = buffer.floats();
    assertThat(floats.isDirect()).isTrue();
    assertThat(floats.order()).isEqualTo(ByteOrder.nativeOrder());
    assertThat(floats.remaining()).isEqualTo(n);
    for (int i = 0; i < n; i++) {
      assertThat(floats.get(i)).isEqualTo(i * 0.5f - 1000f);
    }
    assertThat(data.position()).as("the source is not consumed").isZero();
  }

  @Test
  void bfloat16WidensToItsExactValue() {
    ByteBuffer data = shorts((short) 0x3f80, (short) 0xc000, (short) 0x0001, (short) 0x7f7f);

    assertThat(buffer.load(data, Dtype.BF16, 4)).isEqualTo(-1);

    FloatBuffer floats = buffer.floats();
    assertThat(floats.get(0)).isEqualTo(1.0f);
    assertThat(floats.get(1)).isEqualTo(-2.0f);
    assertThat(floats.get(2)).isEqualTo(Float.intBitsToFloat(0x00010000));
    assertThat(floats.get(3)).isEqualTo(Float.intBitsToFloat(0x7f7f0000));
  }

  @Test
  void float16WidensToItsExactValueIncludingSubnormals() {
    ByteBuffer data =
        shorts((short) 0x3c00, (short) 0xc000, (short) 0x0001, (short) 0x7bff, (short) 0x8000);

    assertThat(buffer.load(data, Dtype.F16, 5)).isEqualTo(-1);

    FloatBuffer floats = buffer.floats();
    assertThat(floats.get(0)).isEqualTo(1.0f);
    assertThat(floats.get(1)).isEqualTo(-2.0f);
    assertThat(floats.get(2)).isEqualTo(0x1p-24f);
    assertThat(floats.get(3)).isEqualTo(65504f);
    assertThat(Float.floatToRawIntBits(floats.get(4))).isEqualTo(0x80000000);
  }

  @Test
  void theFirstNonFiniteValueIsFoundInEveryDtype() {
    int n = ActivationBuffer.CHUNK + 10;
    ByteBuffer f32 = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer half = ByteBuffer.allocate(n * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      f32.putFloat(i == ActivationBuffer.CHUNK + 3 ? Float.POSITIVE_INFINITY : 1f);
      half.putShort(i == 5 || i == 9 ? (short) 0x7e00 : (short) 0x3c00); // F16 NaN, 1.0
    }

    assertThat(buffer.load(f32.flip(), Dtype.F32, n)).isEqualTo(ActivationBuffer.CHUNK + 3);
    assertThat(buffer.load(half.flip(), Dtype.F16, n)).isEqualTo(5);
    assertThat(buffer.load(shorts((short) 0x3f80, (short) 0xff80), Dtype.BF16, 2)).isEqualTo(1);
  }

  @Test
  void theBufferIsReusedAndShrinksItsView() {
    buffer.load(shorts(new short[100]), Dtype.BF16, 100);
    buffer.load(shorts((short) 0x3f80), Dtype.BF16, 1);

    assertThat(buffer.floats().remaining()).isEqualTo(1);
    assertThat(buffer.floats().get(0)).isEqualTo(1f);
  }

  @Test
  void tooFewBytesAreRefused() {
    assertThatThrownBy(() -> buffer.load(ByteBuffer.allocate(7), Dtype.F32, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("data holds 7 bytes, 2 F32 need 8");
    assertThatThrownBy(() -> buffer.load(ByteBuffer.allocate(0), Dtype.F32, -1))
        .hasMessageStartingWith("count must be in [0, ");
  }

  private static ByteBuffer shorts(short... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (short v : values) {
      b.putShort(v);
    }
    return b.flip();
  }
}
