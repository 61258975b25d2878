package io.saestream.sae.fold;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.saestream.sae.checkpoint.DType;
import io.saestream.sae.checkpoint.FloatTensor;
import io.saestream.sae.checkpoint.HalfPrecision;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;
import io.saestream.sae.checkpoint.SafeTensorsWriter;
import io.saestream.sae.checkpoint.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ScaledTensorTest {

  /**
   * A tensor computed from its index, that refuses to be materialised and counts the largest read:
   * stands in for a multi-GB mapped weight.
   */
  private static final class VirtualTensor implements Tensor {
    private final DType dtype;
    private final long[] shape;
    int largestRead;

    VirtualTensor(DType dtype, long... shape) {
      this.dtype = dtype;
      this.shape = shape;
    }

    static float valueAt(long i) {
      return HalfPrecision.roundTo(DType.BF16, (float) Math.sin(i * 0.001) + 0.01f);
    }

    @Override
    public DType dtype() {
      return dtype;
    }

    @Override
    public long[] shape() {
      return shape;
    }

    @Override
    public void readFloats(long start, float[] dst, int dstOffset, int length) {
      largestRead = Math.max(largestRead, length);
      for (int i = 0; i < length; i++) {
        dst[dstOffset + i] = valueAt(start + i);
      }
    }

    @Override
    public void writeRaw(WritableByteChannel out) {
      throw new UnsupportedOperationException("not needed");
    }

    @Override
    public float[] toFloatArray() {
      throw new AssertionError(
          "materialised a tensor of shape " + java.util.Arrays.toString(shape));
    }
  }

  @Test
  void viewsOfTensorsLargerThanAnyArrayReadLazily() {
    // 2^32 elements: more than a Java array (or a ByteBuffer) can hold.
    VirtualTensor huge = new VirtualTensor(DType.F32, 1L << 16, 1L << 16);
    double[] rowFactors = new double[1 << 16];
    double[] colFactors = new double[1 << 16];
    for (int i = 0; i < rowFactors.length; i++) {
      rowFactors[i] = 1 + i * 1e-3;
      colFactors[i] = 2 + i * 1e-4;
    }
    ScaledTensor rows = ScaledTensor.rows(huge, ScaledTensor.Op.DIVIDE, rowFactors);
    ScaledTensor cols = ScaledTensor.columns(huge, ScaledTensor.Op.MULTIPLY, colFactors);
    long start = (1L << 32) - 70_000;
    float[] r = new float[70_000];
    float[] c = new float[70_000];
    rows.readFloats(start, r, 0, r.length);
    cols.readFloats(start, c, 0, c.length);
    for (int k = 0; k < r.length; k++) {
      long idx = start + k;
      int row = (int) (idx >>> 16);
      int col = (int) (idx & 0xffff);
      assertThat(r[k]).isEqualTo(VirtualTensor.valueAt(idx) / (float) rowFactors[row]);
      assertThat(c[k]).isEqualTo(VirtualTensor.valueAt(idx) * (float) colFactors[col]);
    }
  }

  @Test
  void foldingAndWritingAnSaeReadsOnlyBoundedBlocks() throws IOException {
    int dIn = 64;
    int dSae = 4096;
    VirtualTensor wEnc = new VirtualTensor(DType.F32, dIn, dSae);
    VirtualTensor wDec = new VirtualTensor(DType.F32, dSae, dIn);
    Map<String, Tensor> t = new LinkedHashMap<>();
    t.put("W_enc", wEnc);
    t.put("W_dec", wDec);
    t.put("b_enc", FloatTensor.of(new float[dSae], dSae));
    t.put("b_dec", FloatTensor.of(new float[dIn], dIn));
    t.put("threshold", FloatTensor.of(new float[dSae], dSae));
    SaeConfig cfg =
        SaeConfig.parse(
            "{\"d_in\": "
                + dIn
                + ", \"d_sae\": "
                + dSae
                + ", \"normalize_activations\":"
                + " \"expected_average_only_in\", \"architecture\": \"jumprelu\"}");
    SaeCheckpoint sae = SaeCheckpoint.of(cfg, t);
    SaeCheckpoint served = Folding.toInference(Folding.foldActivationScale(sae, 0.25));
    CountingSink sink = new CountingSink();
    long n = SafeTensorsWriter.writeTo(sink, served.tensors(), Map.of());
    assertThat(sink.count).isEqualTo(n).isGreaterThan(2L * dIn * dSae * 4);
    assertThat(wEnc.largestRead).isPositive().isLessThanOrEqualTo(1 << 16);
    assertThat(wDec.largestRead).isPositive().isLessThanOrEqualTo(1 << 16);
  }

  @Test
  void f32DivisionIsATrueDivisionNotAReciprocalMultiply() {
    // Find operands where a / b and a * (1 / b) differ in float32, as they do for ~1/4 of pairs.
    float a = 0;
    float b = 0;
    for (int i = 1; i < 1000; i++) {
      float x = (float) Math.sin(i) * 10;
      float y = 1 + i * 0.37f;
      if (x / y != x * (1 / y)) {
        a = x;
        b = y;
        break;
      }
    }
    assertThat(a).isNotZero();
    Tensor view = ScaledTensor.all(FloatTensor.of(new float[] {a}, 1), ScaledTensor.Op.DIVIDE, b);
    assertThat(view.toFloatArray()[0]).isEqualTo(a / b).isNotEqualTo(a * (1 / b));
  }

  @Test
  void f64ViewsComputeInDoubleAndHalfViewsRoundToTheirDtype() throws IOException {
    Tensor f64 = new ConstantTensor(DType.F64, new long[0], Math.PI);
    ScaledTensor divided = ScaledTensor.all(f64, ScaledTensor.Op.DIVIDE, 3.0);
    double[] d = new double[1];
    divided.readDoubles(0, d, 0, 1);
    assertThat(d[0]).isEqualTo(Math.PI / 3.0);
    assertThat(rawBytes(divided))
        .isEqualTo(
            ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(Math.PI / 3).array());
    assertThat(divided.toFloatArray()[0]).isEqualTo((float) (Math.PI / 3));

    float v = HalfPrecision.roundTo(DType.BF16, 1.7f);
    Tensor bf16 = new ConstantTensor(DType.BF16, new long[] {2}, v);
    ScaledTensor scaled = ScaledTensor.all(bf16, ScaledTensor.Op.MULTIPLY, 1.3);
    float want = HalfPrecision.roundTo(DType.BF16, v * 1.3f);
    assertThat(scaled.toFloatArray()).containsExactly(want, want);
    short bits = HalfPrecision.floatToBf16(want);
    assertThat(rawBytes(scaled))
        .containsExactly((byte) bits, (byte) (bits >> 8), (byte) bits, (byte) (bits >> 8));
  }

  @Test
  void factorCountsMustMatchTheShape() {
    Tensor m = FloatTensor.of(new float[6], 2, 3);
    assertThatThrownBy(() -> ScaledTensor.rows(m, ScaledTensor.Op.MULTIPLY, new double[3]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("need 2 values, got 3");
    assertThatThrownBy(
            () ->
                ScaledTensor.rows(
                    FloatTensor.of(new float[3], 3), ScaledTensor.Op.MULTIPLY, new double[3]))
        .hasMessageContaining("row factors need a matrix");
    assertThat(ScaledTensor.columns(m, ScaledTensor.Op.MULTIPLY, new double[] {1, 2, 3}).numel())
        .isEqualTo(6);
  }

  @Test
  void configFieldOrderSurvivesFolding() {
    ObjectNode json =
        SaeConfig.parse(
                "{\"z_custom\": 1, \"d_in\": 2, \"d_sae\": 2, \"normalize_activations\":"
                    + " \"expected_average_only_in\", \"metadata\": {\"a\": 1}, \"architecture\":"
                    + " \"standard\"}")
            .toJson();
    Map<String, Tensor> t = new LinkedHashMap<>();
    t.put("W_enc", FloatTensor.of(new float[] {1, 0, 0, 1}, 2, 2));
    t.put("W_dec", FloatTensor.of(new float[] {2, 0, 0, 4}, 2, 2));
    t.put("b_enc", FloatTensor.of(new float[2], 2));
    t.put("b_dec", FloatTensor.of(new float[2], 2));
    SaeCheckpoint served =
        Folding.foldDecoderNorm(
            Folding.foldActivationScale(SaeCheckpoint.of(SaeConfig.fromJson(json), t), 2));
    assertThat(served.config().toCfgJson())
        .isEqualTo(
            "{\"z_custom\": 1, \"d_in\": 2, \"d_sae\": 2, \"normalize_activations\": \"none\","
                + " \"metadata\": {\"a\": 1, \"sae_stream_fold\": {\"decoder_norm_folded\": true,"
                + " \"activation_scale\": 2.0}}, \"architecture\": \"standard\"}");
    // W_dec / s = diag(1, 2): norms 1 and 2, so W_enc * s * n = diag(2, 4).
    assertThat(served.tensor("W_enc").toFloatArray()).containsExactly(2, 0, 0, 4);
    assertThat(served.tensor("W_dec").toFloatArray()).containsExactly(1, 0, 0, 1);
  }

  private static byte[] rawBytes(Tensor t) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    t.writeRaw(Channels.newChannel(out));
    return out.toByteArray();
  }

  private static final class CountingSink implements WritableByteChannel {
    long count;

    @Override
    public int write(ByteBuffer src) {
      int n = src.remaining();
      src.position(src.limit());
      count += n;
      return n;
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }
}
