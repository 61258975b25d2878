package io.saestream.sae.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The graph contract: names, shapes, metadata, and no dense outputs outside DEBUG. */
class TrainingStepGraphTest {

  private static final TrainingStepSpec SPEC = TrainingStepSpec.topK(16, 64, 4);

  @Test
  void adamGraphTakesStateAndScheduleAndReturnsTheNextState() {
    TrainingStepModel m = TrainingStepGraph.builder(SPEC).build();
    assertThat(m.variant()).isEqualTo(StepVariant.ADAM);
    assertThat(m.precision()).isEqualTo(Precision.FLOAT32);
    assertThat(m.formulation()).isEqualTo(Formulation.SPARSE);
    assertThat(m.inputNames())
        .containsExactly(
            "x",
            "W_enc",
            "b_enc",
            "W_dec",
            "b_dec",
            "dead_mask",
            "m_W_enc",
            "v_W_enc",
            "m_b_enc",
            "v_b_enc",
            "m_W_dec",
            "v_W_dec",
            "m_b_dec",
            "v_b_dec",
            "step",
            "lr");
    assertThat(m.outputNames())
        .containsExactly(
            "loss",
            "mse_loss",
            "aux_loss",
            "grad_norm",
            "W_enc_next",
            "m_W_enc_next",
            "v_W_enc_next",
            "b_enc_next",
            "m_b_enc_next",
            "v_b_enc_next",
            "W_dec_next",
            "m_W_dec_next",
            "v_W_dec_next",
            "b_dec_next",
            "m_b_dec_next",
            "v_b_dec_next",
            "fired_counts",
            "l0",
            "min_positive_act");
  }

  @Test
  void gradientAndDebugGraphsReturnGradients() {
    TrainingStepModel g = TrainingStepGraph.builder(SPEC).variant(StepVariant.GRADIENTS).build();
    assertThat(g.inputNames())
        .containsExactly("x", "W_enc", "b_enc", "W_dec", "b_dec", "dead_mask");
    assertThat(g.outputNames())
        .containsExactly(
            "loss",
            "mse_loss",
            "aux_loss",
            "grad_norm",
            "grad_W_enc",
            "grad_b_enc",
            "grad_W_dec",
            "grad_b_dec",
            "sae_out",
            "fired_counts",
            "l0",
            "min_positive_act");
    TrainingStepModel d = TrainingStepGraph.builder(SPEC).variant(StepVariant.DEBUG).build();
    assertThat(d.outputNames()).endsWith("feature_acts", "hidden_pre");
  }

  @ParameterizedTest
  @EnumSource(StepVariant.class)
  void onlyTheDebugVariantHasBatchByLatentOutputs(StepVariant variant) throws Exception {
    for (SparsityRule rule : SparsityRule.values()) {
      for (Formulation f : Formulation.values()) {
        TrainingStepSpec spec =
            rule == SparsityRule.TOPK ? SPEC : TrainingStepSpec.batchTopK(16, 64, 4);
        ModelProto model =
            ModelProto.parseFrom(
                TrainingStepGraph.builder(spec)
                    .variant(variant)
                    .formulation(f)
                    .build()
                    .toByteArray());
        List<String> dense = new ArrayList<>();
        for (ValueInfoProto o : model.getGraph().getOutputList()) {
          if (dims(o).equals(List.of("batch", "64"))) {
            dense.add(o.getName());
          }
        }
        if (variant == StepVariant.DEBUG) {
          assertThat(dense).containsExactly("feature_acts", "hidden_pre");
        } else {
          assertThat(dense).isEmpty();
        }
      }
    }
  }

  @Test
  void declaresShapesOpsetAndProvenance() throws Exception {
    TrainingStepSpec spec = TrainingStepSpec.batchTopK(16, 64, 2.5);
    ModelProto model =
        ModelProto.parseFrom(
            TrainingStepGraph.builder(spec)
                .precision(Precision.FLOAT64)
                .formulation(Formulation.DENSE)
                .build()
                .toByteArray());
    assertThat(model.getIrVersion()).isEqualTo(TrainingStepGraph.IR_VERSION);
    assertThat(model.getOpsetImport(0).getVersion()).isEqualTo(TrainingStepGraph.OPSET);
    assertThat(model.getProducerName()).isEqualTo("sae-stream");
    Map<String, String> meta =
        model.getMetadataPropsList().stream()
            .collect(
                Collectors.toMap(StringStringEntryProto::getKey, StringStringEntryProto::getValue));
    assertThat(meta)
        .containsEntry("sae_stream.graph", "training_step")
        .containsEntry("sae_stream.rule", "batch_topk")
        .containsEntry("sae_stream.k", "2.5")
        .containsEntry("sae_stream.precision", "FLOAT64")
        .containsEntry("sae_stream.formulation", "DENSE")
        .containsEntry("sae_stream.variant", "ADAM");
    Map<String, List<String>> inputs =
        model.getGraph().getInputList().stream()
            .collect(Collectors.toMap(ValueInfoProto::getName, TrainingStepGraphTest::dims));
    assertThat(inputs.get("x")).containsExactly("batch", "16");
    assertThat(inputs.get("W_enc")).containsExactly("16", "64");
    assertThat(inputs.get("v_W_dec")).containsExactly("64", "16");
    assertThat(inputs.get("dead_mask")).containsExactly("64");
    assertThat(inputs.get("step")).isEmpty();
    assertThat(inputs.get("lr")).isEmpty();
  }

  @Test
  void modelBytesAreDefensiveCopies() {
    TrainingStepModel m = TrainingStepGraph.builder(SPEC).build();
    byte[] first = m.toByteArray();
    first[0] ^= 1;
    assertThat(m.toByteArray()).isNotEqualTo(first).hasSize(m.byteSize());
    assertThat(m.toString()).contains("ADAM", "FLOAT32", "SPARSE");
    assertThat(m.spec()).isEqualTo(SPEC);
  }

  @Test
  @SuppressWarnings("NullAway") // passes null on purpose
  void builderRejectsNulls() {
    assertThatThrownBy(() -> TrainingStepGraph.builder(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("spec");
    TrainingStepGraph.Builder b = TrainingStepGraph.builder(SPEC);
    assertThatThrownBy(() -> b.variant(null)).hasMessage("variant");
    assertThatThrownBy(() -> b.precision(null)).hasMessage("precision");
    assertThatThrownBy(() -> b.formulation(null)).hasMessage("formulation");
  }

  @Test
  void parameterNamesChainOutputsToInputs() {
    assertThat(SaeParameter.W_DEC.tensorName()).isEqualTo("W_dec");
    assertThat(SaeParameter.W_DEC.gradient()).isEqualTo("grad_W_dec");
    assertThat(SaeParameter.W_DEC.next()).isEqualTo("W_dec_next");
    assertThat(SaeParameter.W_DEC.firstMoment()).isEqualTo("m_W_dec");
    assertThat(SaeParameter.W_DEC.nextSecondMoment()).isEqualTo("v_W_dec_next");
    assertThat(SaeParameter.W_ENC.shape(SPEC)).containsExactly(16, 64);
    assertThat(SaeParameter.W_DEC.shape(SPEC)).containsExactly(64, 16);
    assertThat(SaeParameter.B_ENC.elementCount(SPEC)).isEqualTo(64);
    assertThat(SaeParameter.B_DEC.elementCount(SPEC)).isEqualTo(16);
  }

  private static List<String> dims(ValueInfoProto v) {
    List<String> out = new ArrayList<>();
    for (TensorShapeProto.Dimension d : v.getType().getTensorType().getShape().getDimList()) {
      out.add(d.hasDimParam() ? d.getDimParam() : Long.toString(d.getDimValue()));
    }
    return out;
  }
}
