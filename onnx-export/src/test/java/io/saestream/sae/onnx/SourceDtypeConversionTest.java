package io.saestream.sae.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.saestream.sae.checkpoint.Architecture;
import io.saestream.sae.checkpoint.DType;
import io.saestream.sae.checkpoint.HalfPrecision;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Weights stored as F16, BF16 or F64 are exported as float32, converted while streaming. */
class SourceDtypeConversionTest {

  @ParameterizedTest
  @EnumSource(
      value = DType.class,
      names = {"F16", "BF16", "F64"})
  void everyWeightIsWrittenAsItsFloat32Value(DType dtype) throws Exception {
    SaeCheckpoint f32 = TestSaes.random(TestSaes.spec(Architecture.JUMPRELU, 16, 64, 0), 8);
    Map<String, Tensor> converted = new LinkedHashMap<>();
    f32.tensors().forEach((name, t) -> converted.put(name, new StoredAs(dtype, t)));
    SaeCheckpoint sae = SaeCheckpoint.of(f32.config(), converted);

    ModelProto m =
        ModelProto.parseFrom(SaeOnnxExporter.exportToBytes(sae, ExportOptions.defaults()));

    for (TensorProto init : m.getGraph().getInitializerList()) {
      if (!sae.has(init.getName())) {
        continue;
      }
      assertThat(init.getDataType()).isEqualTo(TensorProto.DataType.FLOAT_VALUE);
      float[] expected = sae.tensor(init.getName()).toFloatArray();
      float[] actual = new float[expected.length];
      init.getRawData()
          .asReadOnlyByteBuffer()
          .order(ByteOrder.LITTLE_ENDIAN)
          .asFloatBuffer()
          .get(actual);
      assertThat(actual).as(init.getName()).isEqualTo(expected);
    }
    assertThat(m.getGraph().getInitializerList())
        .extracting(TensorProto::getName)
        .contains("W_enc", "b_enc", "W_dec", "b_dec");
    float[][] x = TestSaes.activations(16, 16, 9);
    try (OrtModel model = OrtModel.load(m.toByteArray())) {
      AnalyzeOutputs.of(model.run(x))
          .assertMatches(new SaeLensReference(sae).analyze(x, 64), x, dtype.name());
    }
  }

  /** A float32 tensor re-stored in another dtype: raw bytes of that dtype, floats rounded. */
  private static final class StoredAs implements Tensor {
    private final DType dtype;
    private final float[] values;
    private final long[] shape;

    StoredAs(DType dtype, Tensor source) {
      this.dtype = dtype;
      this.shape = source.shape();
      this.values = source.toFloatArray();
      for (int i = 0; i < values.length; i++) {
        values[i] = dtype == DType.F64 ? values[i] : HalfPrecision.roundTo(dtype, values[i]);
      }
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
      System.arraycopy(values, (int) start, dst, dstOffset, length);
    }

    @Override
    public void writeRaw(WritableByteChannel out) throws IOException {
      ByteBuffer b =
          ByteBuffer.allocate(values.length * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
      for (float v : values) {
        switch (dtype) {
          case F64 -> b.putDouble(v);
          case F16 -> b.putShort(HalfPrecision.floatToF16(v));
          case BF16 -> b.putShort(HalfPrecision.floatToBf16(v));
          case F32 -> b.putFloat(v);
        }
      }
      b.flip();
      while (b.hasRemaining()) {
        out.write(b);
      }
    }
  }
}
