package io.saestream.sae.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.saestream.sae.checkpoint.Architecture;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Weights in an ONNX external-data file next to the model. */
class ExternalDataTest {

  private final SaeCheckpoint sae =
      TestSaes.random(TestSaes.spec(Architecture.JUMPRELU, 24, 96, 0), 21);

  @Test
  void forcedExternalDataLeavesNoWeightsInTheModelAndRunsIdenticallyToEmbedded(@TempDir Path dir)
      throws Exception {
    Path model = dir.resolve("sae.onnx");
    ExportSummary summary =
        SaeOnnxExporter.export(
            sae, model, ExportOptions.defaults().withExternalData(ExternalDataMode.ALWAYS));

    Path data = dir.resolve("sae.onnx.data");
    assertThat(summary.externalData()).isEqualTo(data);
    assertThat(data).isRegularFile();
    try (var files = Files.list(dir)) {
      assertThat(files).containsExactlyInAnyOrder(model, data);
    }

    ModelProto proto = ModelProto.parseFrom(Files.readAllBytes(model));
    long dataSize = Files.size(data);
    Map<String, TensorProto> external = new HashMap<>();
    for (TensorProto t : proto.getGraph().getInitializerList()) {
      if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
        external.put(t.getName(), t);
        assertThat(t.getRawData().isEmpty()).as(t.getName() + " raw_data").isTrue();
        Map<String, String> info = new HashMap<>();
        for (StringStringEntryProto e : t.getExternalDataList()) {
          info.put(e.getKey(), e.getValue());
        }
        assertThat(info.get("location")).isEqualTo("sae.onnx.data");
        long offset = Long.parseLong(info.get("offset"));
        long length = Long.parseLong(info.get("length"));
        assertThat(offset % SaeOnnxExporter.EXTERNAL_DATA_ALIGNMENT).isZero();
        assertThat(offset + length).isLessThanOrEqualTo(dataSize);
      } else {
        // Only the graph's own small constants (scalars, axes, shapes) stay inline.
        assertThat(t.getRawData().size()).as(t.getName()).isLessThanOrEqualTo(16);
      }
    }
    assertThat(external.keySet())
        .containsExactlyInAnyOrder("W_enc", "b_enc", "W_dec", "b_dec", "threshold_positive");
    assertThat(Files.size(model)).isLessThan(summary.weightBytes() / 4);
    assertWeightBytes(
        data, Objects.requireNonNull(external.get("W_dec")), sae.tensor("W_dec").toFloatArray());

    float[][] x = TestSaes.activations(16, 24, 22);
    Map<String, Object> fromFile;
    Map<String, Object> fromBytes;
    try (OrtModel external1 = OrtModel.load(model);
        OrtModel embedded =
            OrtModel.load(SaeOnnxExporter.exportToBytes(sae, ExportOptions.defaults()))) {
      fromFile = external1.run(x);
      fromBytes = embedded.run(x);
    }
    for (String name : fromBytes.keySet()) {
      assertThat(fromFile.get(name)).as(name).isEqualTo(fromBytes.get(name));
    }
  }

  @Test
  void automaticModeEmbedsSmallModelsAndRemovesAStaleDataFile(@TempDir Path dir) throws Exception {
    Path model = dir.resolve("sae.onnx");
    SaeOnnxExporter.export(
        sae, model, ExportOptions.defaults().withExternalData(ExternalDataMode.ALWAYS));
    assertThat(dir.resolve("sae.onnx.data")).exists();

    ExportSummary summary = SaeOnnxExporter.export(sae, model, ExportOptions.defaults());

    assertThat(summary.externalData()).isNull();
    assertThat(dir.resolve("sae.onnx.data")).doesNotExist();
    assertThat(Files.readAllBytes(model))
        .isEqualTo(SaeOnnxExporter.exportToBytes(sae, ExportOptions.defaults()));
  }

  @Test
  void embeddedFileIsByteIdenticalToTheInMemoryModel(@TempDir Path dir) throws Exception {
    Path model = dir.resolve("m.onnx");
    ExportOptions options = ExportOptions.defaults().withGraph(GraphKind.DECODER);

    SaeOnnxExporter.export(sae, model, options.withExternalData(ExternalDataMode.NEVER));

    byte[] bytes = SaeOnnxExporter.exportToBytes(sae, options);
    assertThat(Files.readAllBytes(model)).isEqualTo(bytes);
    // The streamed serialisation is a valid protobuf: parsing and re-serialising round-trips.
    ModelProto parsed = ModelProto.parseFrom(bytes);
    assertThat(parsed.getGraph().getInitializerList())
        .extracting(TensorProto::getName)
        .containsAll(List.of("W_dec", "b_dec"));
    assertThat(parsed.getSerializedSize()).isEqualTo(bytes.length);
  }

  private static void assertWeightBytes(Path data, TensorProto t, float[] expected)
      throws Exception {
    long offset = -1;
    for (StringStringEntryProto e : t.getExternalDataList()) {
      if (e.getKey().equals("offset")) {
        offset = Long.parseLong(e.getValue());
      }
    }
    byte[] all = Files.readAllBytes(data);
    ByteBuffer b =
        ByteBuffer.wrap(all, (int) offset, expected.length * Float.BYTES)
            .order(ByteOrder.LITTLE_ENDIAN);
    float[] actual = new float[expected.length];
    b.asFloatBuffer().get(actual);
    assertThat(actual).isEqualTo(expected);
  }
}
