package io.saestream.sae.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.saestream.sae.checkpoint.ActivationNormalization;
import io.saestream.sae.checkpoint.Architecture;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A batch of zero tokens gives empty outputs. ONNX Runtime 1.29's TopK divides by the row count and
 * kills the whole process with SIGFPE on such a batch, so a regression here crashes the test JVM,
 * which fails the build.
 */
class EmptyBatchTest {

  static Stream<Arguments> variants() {
    List<Arguments> args = new ArrayList<>();
    for (Architecture arch :
        List.of(
            Architecture.STANDARD, Architecture.JUMPRELU, Architecture.GATED, Architecture.TOPK)) {
      for (ActivationNormalization norm :
          List.of(ActivationNormalization.NONE, ActivationNormalization.LAYER_NORM)) {
        for (GraphKind kind : GraphKind.values()) {
          args.add(Arguments.of(TestSaes.spec(arch, 8, 32, 4).withNormalization(norm), kind));
        }
      }
    }
    return args.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("variants")
  void zeroTokensGiveEmptyOutputs(TestSaes.Spec spec, GraphKind kind) throws Exception {
    SaeCheckpoint sae = TestSaes.random(spec, 1);
    byte[] model =
        SaeOnnxExporter.exportToBytes(
            sae, ExportOptions.defaults().withGraph(kind).withMaxActive(4));
    List<OnnxTensor> inputs = new ArrayList<>();
    try (OrtModel m = OrtModel.load(model)) {
      Map<String, OnnxTensor> feed = new HashMap<>();
      for (var e : m.session().getInputInfo().entrySet()) {
        TensorInfo info = (TensorInfo) e.getValue().getInfo();
        long[] shape = info.getShape().clone();
        shape[0] = 0;
        for (int i = 1; i < shape.length; i++) {
          shape[i] = shape[i] < 0 ? 4 : shape[i];
        }
        OnnxTensor t =
            info.type == ai.onnxruntime.OnnxJavaType.INT64
                ? OnnxTensor.createTensor(OrtModel.ENV, LongBuffer.allocate(0), shape)
                : OnnxTensor.createTensor(OrtModel.ENV, FloatBuffer.allocate(0), shape);
        inputs.add(t);
        feed.put(e.getKey(), t);
      }
      try (OrtSession.Result r = m.session().run(feed)) {
        assertThat(r.size()).isEqualTo(m.session().getOutputNames().size());
        for (Map.Entry<String, OnnxValue> out : r) {
          long[] shape = ((TensorInfo) out.getValue().getInfo()).getShape();
          assertThat(shape[0]).as(out.getKey()).isZero();
        }
      }
    } finally {
      for (OnnxTensor t : inputs) {
        t.close();
      }
    }
  }
}
