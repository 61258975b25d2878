package io.saestream.sae.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.saestream.sae.checkpoint.Architecture;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The shape of the graphs: sparse decoding, no dense outputs, no needless passes. */
class GraphStructureTest {

  @ParameterizedTest
  @EnumSource(
      value = Architecture.class,
      names = {"STANDARD", "JUMPRELU", "GATED", "TOPK"})
  void decoderRowsAreGatheredNeverMultipliedDensely(Architecture arch) throws Exception {
    // d_sae = 256 > the default K of 128, so a d_sae dimension would stand out.
    SaeCheckpoint sae = TestSaes.random(TestSaes.spec(arch, 16, 256, 4), 1);
    for (GraphKind kind : List.of(GraphKind.ANALYZE, GraphKind.DECODER)) {
      ModelProto m = ModelProto.parseFrom(SaeOnnxExporter.exportToBytes(sae, options(kind)));

      assertThat(consumersOf(m, "W_dec")).extracting(NodeProto::getOpType).containsOnly("Gather");
      for (var output : m.getGraph().getOutputList()) {
        assertThat(output.getType().getTensorType().getShape().getDimList())
            .as(output.getName())
            .noneMatch(d -> d.getDimValue() == 256);
      }
    }
  }

  @Test
  void topkKeepsTheDenseHiddenStateToOneRescaleAndTheTopK() throws Exception {
    SaeCheckpoint sae = TestSaes.random(TestSaes.spec(Architecture.TOPK, 16, 64, 4), 1);
    ModelProto m =
        ModelProto.parseFrom(SaeOnnxExporter.exportToBytes(sae, ExportOptions.defaults()));

    assertThat(consumersOf(m, "hidden_pre"))
        .extracting(NodeProto::getName)
        .containsExactly("hidden_pre_rescaled");
    // Shape reads only the dimensions (to guard TopK against an empty batch).
    assertThat(consumersOf(m, "hidden_pre_rescaled"))
        .extracting(NodeProto::getOpType)
        .containsExactlyInAnyOrder("Shape", "TopK");
    assertThat(consumersOf(m, "topk_values"))
        .extracting(NodeProto::getOpType)
        .containsExactly("Relu");
  }

  @Test
  void foldedTopKOmitsTheIdentityRescale() throws Exception {
    SaeCheckpoint unfolded = TestSaes.random(TestSaes.spec(Architecture.TOPK, 16, 64, 4), 1);
    float[] wDec = unfolded.tensor("W_dec").toFloatArray();
    for (int j = 0; j < 64; j++) {
      double n = 0;
      for (int i = 0; i < 16; i++) {
        n += (double) wDec[j * 16 + i] * wDec[j * 16 + i];
      }
      for (int i = 0; i < 16; i++) {
        wDec[j * 16 + i] = (float) (wDec[j * 16 + i] / Math.sqrt(n));
      }
    }
    SaeCheckpoint folded = TestSaes.withTensor(unfolded, "W_dec", wDec);

    ModelProto withRescale =
        ModelProto.parseFrom(SaeOnnxExporter.exportToBytes(unfolded, ExportOptions.defaults()));
    ModelProto withoutRescale =
        ModelProto.parseFrom(SaeOnnxExporter.exportToBytes(folded, ExportOptions.defaults()));

    assertThat(initializers(withRescale)).contains("W_dec_norm");
    assertThat(initializers(withoutRescale)).doesNotContain("W_dec_norm");
    assertThat(consumersOf(withoutRescale, "hidden_pre"))
        .extracting(NodeProto::getOpType)
        .containsExactlyInAnyOrder("Shape", "TopK");
    float[][] x = TestSaes.activations(32, 16, 2);
    try (OrtModel m = OrtModel.load(withoutRescale.toByteArray())) {
      AnalyzeOutputs.of(m.run(x))
          .assertMatches(new SaeLensReference(folded).analyze(x, 4), x, "folded");
    }
  }

  private static ExportOptions options(GraphKind kind) {
    return ExportOptions.defaults().withGraph(kind);
  }

  /** Nodes reading {@code value}, in the main graph and in control-flow branches. */
  private static List<NodeProto> consumersOf(ModelProto m, String value) {
    List<NodeProto> found = new ArrayList<>();
    collect(m.getGraph(), value, found);
    return found;
  }

  private static void collect(GraphProto g, String value, List<NodeProto> found) {
    for (NodeProto n : g.getNodeList()) {
      if (n.getInputList().contains(value)) {
        found.add(n);
      }
      for (AttributeProto a : n.getAttributeList()) {
        if (a.hasG()) {
          collect(a.getG(), value, found);
        }
      }
    }
  }

  private static List<String> initializers(ModelProto m) {
    return m.getGraph().getInitializerList().stream().map(TensorProto::getName).toList();
  }
}
