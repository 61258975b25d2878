package io.saestream.sae.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxModelMetadata;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.saestream.sae.checkpoint.ActivationNormalization;
import io.saestream.sae.checkpoint.Architecture;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.fold.Folding;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Provenance in the model metadata, and the summary's description of inputs and outputs. */
class ModelMetadataTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void metadataRecordsWhatWasExportedAndFromWhat() throws Exception {
    TestSaes.Spec spec =
        TestSaes.spec(Architecture.TOPK, 16, 64, 4)
            .withNormalization(ActivationNormalization.LAYER_NORM);
    SaeCheckpoint sae = TestSaes.random(spec, 1);
    String sha = "ab".repeat(32);
    byte[] model =
        SaeOnnxExporter.exportToBytes(
            sae,
            ExportOptions.defaults()
                .withGraph(GraphKind.ENCODER)
                .withSaeId("gpt2-l8-topk")
                .withVersion(12)
                .withSourceSha256(sha));

    ModelProto proto = ModelProto.parseFrom(model);
    assertThat(proto.getIrVersion()).isEqualTo(SaeOnnxExporter.IR_VERSION);
    assertThat(proto.getOpsetImport(0).getVersion()).isEqualTo(SaeOnnxExporter.OPSET);
    try (OrtModel m = OrtModel.load(model)) {
      OnnxModelMetadata md = m.session().getMetadata();
      assertThat(md.getProducerName()).isEqualTo("sae-stream");
      assertThat(md.getVersion()).isEqualTo(12);
      assertThat(md.getCustomMetadata())
          .contains(
              entry("sae_stream.architecture", "topk"),
              entry("sae_stream.graph", "encoder"),
              entry("sae_stream.source_sha256", sha),
              entry("sae_stream.sae_id", "gpt2-l8-topk"),
              entry("sae_stream.version", "12"),
              entry("sae_stream.d_in", "16"),
              entry("sae_stream.d_sae", "64"),
              entry("sae_stream.k", "4"),
              entry("sae_stream.max_active", "4"),
              entry("sae_stream.normalize_activations", "layer_norm"),
              entry("sae_stream.exporter_version", SaeOnnxExporter.EXPORTER_VERSION))
          .containsKeys("sae_stream.fold_state", "sae_stream.cfg_json");
      assertThat(JSON.readTree(md.getCustomMetadata().get("sae_stream.cfg_json")))
          .isEqualTo(sae.config().toJson());
      assertThat(
              JSON.readTree(md.getCustomMetadata().get("sae_stream.fold_state"))
                  .get("decoder_norm_folded")
                  .asBoolean())
          .isFalse();
    }
  }

  @Test
  void inMemoryCheckpointWithoutAHashHasNoSourceHashAndADefaultId() throws Exception {
    SaeCheckpoint sae = TestSaes.random(TestSaes.spec(Architecture.STANDARD, 16, 64, 0), 1);
    try (OrtModel m = OrtModel.load(SaeOnnxExporter.exportToBytes(sae, ExportOptions.defaults()))) {
      Map<String, String> md = m.session().getMetadata().getCustomMetadata();
      assertThat(md).doesNotContainKey("sae_stream.source_sha256");
      assertThat(md)
          .contains(entry("sae_stream.sae_id", "sae"), entry("sae_stream.max_active", "64"))
          .doesNotContainKey("sae_stream.k");
    }
  }

  @Test
  void checkpointReadFromDiskRecordsItsHashNameAndFoldState() throws Exception {
    Path folded = SaeLensFixtures.saeDir("topk_rescale_folded", "sae");
    Path unfolded = SaeLensFixtures.saeDir("topk_rescale_folded", "training_checkpoint");
    try (SaeCheckpoint saved = SaeCheckpoint.open(folded);
        SaeCheckpoint training = SaeCheckpoint.open(unfolded)) {
      Map<String, String> savedMd = metadata(saved, ExportOptions.defaults());
      assertThat(savedMd)
          .contains(
              entry("sae_stream.source_sha256", saved.sourceSha256()),
              entry("sae_stream.sae_id", "sae"));
      // sae-lens folded it without recording anything: detected from the unit decoder rows.
      assertThat(foldState(savedMd).get("decoder_norm_folded").asBoolean()).isTrue();

      Map<String, String> trainingMd = metadata(training, ExportOptions.defaults());
      assertThat(trainingMd).containsEntry("sae_stream.sae_id", "training_checkpoint");
      assertThat(foldState(trainingMd).get("decoder_norm_folded").asBoolean()).isFalse();

      // A folded (derived) checkpoint has no file: the caller passes the source hash along.
      SaeCheckpoint refolded = Folding.toInference(training);
      Map<String, String> refoldedMd =
          metadata(refolded, ExportOptions.defaults().withSourceSha256(training.sourceSha256()));
      assertThat(refoldedMd).containsEntry("sae_stream.source_sha256", training.sourceSha256());
      assertThat(foldState(refoldedMd).get("decoder_norm_folded").asBoolean()).isTrue();
    }
  }

  @Test
  void summaryDescribesTheInputsAndOutputsOrtSees(@TempDir Path dir) throws Exception {
    SaeCheckpoint sae =
        TestSaes.random(
            TestSaes.spec(Architecture.GATED, 16, 64, 0)
                .withNormalization(ActivationNormalization.CONSTANT_NORM_RESCALE),
            1);
    for (GraphKind kind : GraphKind.values()) {
      Path out = dir.resolve(kind.cliName() + ".onnx");
      ExportSummary summary =
          SaeOnnxExporter.export(
              sae, out, ExportOptions.defaults().withGraph(kind).withMaxActive(10));

      assertThat(summary.model()).isEqualTo(out.toAbsolutePath());
      assertThat(summary.graph()).isEqualTo(kind);
      assertThat(summary.maxActive()).isEqualTo(10);
      assertThat(summary.weightBytes()).isPositive().isLessThan(Files.size(out));
      try (OrtModel m = OrtModel.load(out)) {
        assertThat(describe(m.session().getInputInfo())).isEqualTo(summary.inputs());
        assertThat(describe(m.session().getOutputInfo())).isEqualTo(summary.outputs());
      }
    }
    ExportSummary analyze =
        SaeOnnxExporter.export(
            sae, dir.resolve("a.onnx"), ExportOptions.defaults().withMaxActive(10));
    assertThat(analyze.outputs())
        .extracting(TensorSpec::toString)
        .containsExactly(
            "indices: int64[N, 10]",
            "values: float32[N, 10]",
            "sae_out: float32[N, 16]",
            "sse: float32[N]",
            "relative_error: float32[N]",
            "cosine: float32[N]",
            "l0: int64[N]",
            "dropped: int64[N]");
  }

  private static List<TensorSpec> describe(Map<String, NodeInfo> infos) {
    List<TensorSpec> specs = new ArrayList<>();
    for (NodeInfo n : infos.values()) {
      TensorInfo t = (TensorInfo) n.getInfo();
      List<String> dims = new ArrayList<>();
      long[] shape = t.getShape();
      for (int i = 0; i < shape.length; i++) {
        dims.add(shape[i] < 0 ? t.getDimensionNames()[i] : Long.toString(shape[i]));
      }
      String type =
          switch (t.type) {
            case FLOAT -> "float32";
            case INT64 -> "int64";
            default -> t.type.toString();
          };
      specs.add(new TensorSpec(n.getName(), type, dims));
    }
    return specs;
  }

  private static Map<String, String> metadata(SaeCheckpoint sae, ExportOptions options)
      throws Exception {
    try (OrtModel m = OrtModel.load(SaeOnnxExporter.exportToBytes(sae, options))) {
      return m.session().getMetadata().getCustomMetadata();
    }
  }

  private static JsonNode foldState(Map<String, String> md) throws Exception {
    return JSON.readTree(md.get("sae_stream.fold_state"));
  }
}
