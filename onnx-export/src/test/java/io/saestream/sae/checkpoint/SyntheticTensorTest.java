package io.saestream.sae.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import org.junit.jupiter.api.Test;

class SyntheticTensorTest {

  @Test
  void valuesAreUniformWithinPlusMinusScale() {
    SyntheticTensor t = new SyntheticTensor(5, 0.25f, 100_000);
    float[] v = t.toFloatArray();
    double sum = 0;
    float min = Float.MAX_VALUE;
    float max = -Float.MAX_VALUE;
    for (float x : v) {
      assertThat(x).isGreaterThanOrEqualTo(-0.25f).isLessThan(0.25f);
      sum += x;
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    // Uniform on [-s, s): the mean of 1e5 draws has a standard deviation of s/sqrt(3e5) ≈ 4.6e-4,
    // so 0.005 is ten of those; no draw within 1e-3 of an end has probability (1 - 1e-3/2s)^1e5,
    // about e^-200. The seed is fixed, so these bounds catch a broken hash, not bad luck.
    assertThat(sum / v.length).isCloseTo(0, within(0.005));
    assertThat((double) min).isCloseTo(-0.25, within(1e-3));
    assertThat((double) max).isCloseTo(0.25, within(1e-3));
  }

  /**
   * The benchmarks' inputs and weights, and so the figures in BENCHMARKS.md, come from these
   * values: changing the hash changes what they measure.
   */
  @Test
  void valuesDependOnlyOnSeedAndIndexAndArePinned() {
    SyntheticTensor a = new SyntheticTensor(1, 1f, 4, 8);
    assertThat(new SyntheticTensor(1, 1f, 32).value(17)).isEqualTo(a.value(17));
    assertThat(new SyntheticTensor(2, 1f, 4, 8).value(17)).isNotEqualTo(a.value(17));
    assertThat(new SyntheticTensor(1, 0.5f, 4, 8).value(17)).isEqualTo(a.value(17) * 0.5f);
    // Exact float32 values (0.13312304, 0.49156344, 0.17319024), as the benchmarks have used them.
    assertThat(new float[] {a.value(0), a.value(1), a.value(31)})
        .containsExactly(0x1.10a2dp-3f, 0x1.f75c68p-2f, 0x1.62b19p-3f);
  }

  @Test
  void readFloatsAndWriteRawGiveTheValuesAcrossWriteBuffers() throws IOException {
    // 300 000 floats: more than one 1 MiB write buffer, the last one partly filled.
    SyntheticTensor t = new SyntheticTensor(9, 0.1f, 3, 100_000);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (WritableByteChannel ch = Channels.newChannel(bytes)) {
      t.writeRaw(ch);
    }
    assertThat(bytes.size()).isEqualTo(t.byteSize()).isEqualTo(1_200_000);
    ByteBuffer raw = ByteBuffer.wrap(bytes.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
    float[] read = new float[7];
    t.readFloats(262_140, read, 2, 5);
    for (int i = 0; i < 300_000; i++) {
      assertThat(raw.getFloat()).as("element %d", i).isEqualTo(t.value(i));
    }
    for (int i = 0; i < 5; i++) {
      assertThat(read[2 + i]).isEqualTo(t.value(262_140 + i));
    }
    assertThat(read[0]).isZero();
  }

  @Test
  void indicesBeyondTwoToThe31AreRead() {
    SyntheticTensor t = new SyntheticTensor(3, 1f, 65_536, 65_536);
    float[] tail = new float[4];
    t.readFloats((1L << 32) - 4, tail, 0, 4);
    long last = (1L << 32) - 1;
    assertThat(tail)
        .containsExactly(t.value(last - 3), t.value(last - 2), t.value(last - 1), t.value(last));
    assertThat(t.numel()).isEqualTo(1L << 32);
  }

  @Test
  void badShapesScalesAndReadsAreRefused() {
    assertThatThrownBy(() -> new SyntheticTensor(1, 1f, 4, -3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("shape must be non-negative, was [4, -3]");
    assertThatThrownBy(() -> new SyntheticTensor(1, Float.NaN, 4))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("scale must be finite, was NaN");
    assertThatThrownBy(() -> new SyntheticTensor(1, Float.POSITIVE_INFINITY, 4))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("scale must be finite, was Infinity");
    SyntheticTensor t = new SyntheticTensor(1, 1f, 2, 3);
    assertThatThrownBy(() -> t.readFloats(4, new float[3], 0, 3))
        .isInstanceOf(IndexOutOfBoundsException.class)
        .hasMessage("elements [4, 7) out of range for SyntheticTensor[2, 3]");
    assertThatThrownBy(() -> t.readFloats(-1, new float[3], 0, 1))
        .isInstanceOf(IndexOutOfBoundsException.class)
        .hasMessage("elements [-1, 0) out of range for SyntheticTensor[2, 3]");
    assertThatThrownBy(() -> t.readFloats(0, new float[2], 0, 3))
        .isInstanceOf(IndexOutOfBoundsException.class);
  }
}
