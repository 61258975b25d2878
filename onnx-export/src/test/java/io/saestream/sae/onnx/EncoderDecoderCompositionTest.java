package io.saestream.sae.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import io.saestream.sae.checkpoint.ActivationNormalization;
import io.saestream.sae.checkpoint.Architecture;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The encoder and decoder graphs, chained, compute what the analyze graph computes. */
class EncoderDecoderCompositionTest {

  private static final int D_IN = 16;
  private static final int D_SAE = 64;
  private static final int N = 24;

  static Stream<Arguments> variants() {
    List<Arguments> args = new ArrayList<>();
    long seed = 300;
    for (Architecture arch :
        List.of(
            Architecture.STANDARD, Architecture.JUMPRELU, Architecture.GATED, Architecture.TOPK)) {
      for (ActivationNormalization norm :
          List.of(
              ActivationNormalization.NONE,
              ActivationNormalization.CONSTANT_NORM_RESCALE,
              ActivationNormalization.LAYER_NORM)) {
        args.add(Arguments.of(TestSaes.spec(arch, D_IN, D_SAE, 6).withNormalization(norm), seed++));
      }
    }
    return args.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void decoderOfEncoderOutputsEqualsAnalyze(TestSaes.Spec spec, long seed) throws Exception {
    SaeCheckpoint sae = TestSaes.random(spec, seed);
    ExportOptions options = ExportOptions.defaults();
    if (spec.architecture() != Architecture.TOPK) {
      options = options.withMaxActive(12); // below L0 for some rows: dropped slots too
    }
    float[][] x = TestSaes.activations(N, D_IN, seed);
    Map<String, Object> analyze;
    Map<String, Object> encoded;
    try (OrtModel a = OrtModel.load(SaeOnnxExporter.exportToBytes(sae, options));
        OrtModel e =
            OrtModel.load(
                SaeOnnxExporter.exportToBytes(sae, options.withGraph(GraphKind.ENCODER)))) {
      analyze = a.run(x);
      encoded = e.run(x);
    }
    boolean normalizes = spec.normalization() != ActivationNormalization.NONE;
    assertThat(encoded.keySet())
        .containsExactlyElementsOf(
            normalizes
                ? List.of("indices", "values", "l0", "dropped", "norm_scale", "norm_shift")
                : List.of("indices", "values", "l0", "dropped"));
    for (String name : List.of("indices", "values", "l0", "dropped")) {
      assertThat(encoded.get(name)).as(name).isEqualTo(analyze.get(name));
    }

    float[][] decoded =
        decode(
            sae,
            options,
            encoded,
            OrtModel.output(encoded, "indices", long[][].class),
            OrtModel.output(encoded, "values", float[][].class));

    // The same float32 operations in the same order: equal to the last bit.
    assertThat(decoded).isEqualTo(analyze.get("sae_out"));
  }

  @Test
  void decoderIgnoresValuesOfUnusedSlotsAndAcceptsAnyNumberOfSlots() throws Exception {
    TestSaes.Spec spec = TestSaes.spec(Architecture.TOPK, D_IN, D_SAE, 6);
    SaeCheckpoint sae = TestSaes.random(spec, 7);
    float[][] x = TestSaes.activations(N, D_IN, 8);
    Map<String, Object> encoded;
    try (OrtModel e =
        OrtModel.load(
            SaeOnnxExporter.exportToBytes(
                sae, ExportOptions.defaults().withGraph(GraphKind.ENCODER)))) {
      encoded = e.run(x);
    }
    long[][] indices = OrtModel.output(encoded, "indices", long[][].class);
    float[][] values = OrtModel.output(encoded, "values", float[][].class);
    long[][] padded = new long[N][];
    float[][] paddedValues = new float[N][];
    for (int r = 0; r < N; r++) {
      padded[r] = new long[indices[r].length + 3];
      paddedValues[r] = new float[indices[r].length + 3];
      System.arraycopy(indices[r], 0, padded[r], 0, indices[r].length);
      System.arraycopy(values[r], 0, paddedValues[r], 0, values[r].length);
      for (int s = 0; s < padded[r].length; s++) {
        if (s >= indices[r].length || padded[r][s] < 0) {
          padded[r][s] = -1;
          paddedValues[r][s] = 1e6f; // garbage: must be ignored
        }
      }
    }
    ExportOptions options = ExportOptions.defaults();
    float[][] reference = decode(sae, options, encoded, indices, values);
    float[][] withPadding = decode(sae, options, encoded, padded, paddedValues);
    // Unused slots contribute exact zeros, and x + 0 == x in float32.
    assertThat(withPadding).isEqualTo(reference);
  }

  @Test
  void decoderRejectsALatentIndexOutOfRange() throws Exception {
    SaeCheckpoint sae = TestSaes.random(TestSaes.spec(Architecture.STANDARD, D_IN, D_SAE, 0), 9);
    byte[] decoder =
        SaeOnnxExporter.exportToBytes(sae, ExportOptions.defaults().withGraph(GraphKind.DECODER));
    try (OrtModel d = OrtModel.load(decoder);
        OnnxTensor idx = OnnxTensor.createTensor(OrtModel.ENV, new long[][] {{D_SAE}});
        OnnxTensor val = OnnxTensor.createTensor(OrtModel.ENV, new float[][] {{1f}})) {
      assertThatThrownBy(() -> d.run(Map.of("indices", idx, "values", val)))
          .isInstanceOf(OrtException.class)
          .hasMessageContaining("out of");
    }
  }

  private static float[][] decode(
      SaeCheckpoint sae,
      ExportOptions options,
      Map<String, Object> encoded,
      long[][] indices,
      float[][] values)
      throws OrtException {
    byte[] decoder = SaeOnnxExporter.exportToBytes(sae, options.withGraph(GraphKind.DECODER));
    try (OrtModel d = OrtModel.load(decoder);
        OnnxTensor idx = OnnxTensor.createTensor(OrtModel.ENV, indices);
        OnnxTensor val = OnnxTensor.createTensor(OrtModel.ENV, values)) {
      Map<String, OnnxTensor> in = new HashMap<>();
      in.put("indices", idx);
      in.put("values", val);
      if (!encoded.containsKey("norm_scale")) {
        return OrtModel.output(d.run(in), "sae_out", float[][].class);
      }
      try (OnnxTensor scale =
              OnnxTensor.createTensor(
                  OrtModel.ENV, OrtModel.output(encoded, "norm_scale", float[].class));
          OnnxTensor shift =
              OnnxTensor.createTensor(
                  OrtModel.ENV, OrtModel.output(encoded, "norm_shift", float[].class))) {
        in.put("norm_scale", scale);
        in.put("norm_shift", shift);
        return OrtModel.output(d.run(in), "sae_out", float[][].class);
      }
    }
  }
}
