package io.saestream.sae.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SaeConfigTest {

  @Test
  void ofTopKIsWhatSaeLensSavesForATopKSaeByDefault() {
    SaeConfig c = SaeConfig.ofTopK(16, 64, 4);
    assertThat(c.architecture()).isEqualTo(Architecture.TOPK);
    assertThat(c.dIn()).isEqualTo(16);
    assertThat(c.dSae()).isEqualTo(64);
    assertThat(c.topK()).isEqualTo(4);
    assertThat(c.rescaleActsByDecoderNorm()).isTrue();
    assertThat(c.applyBDecToInput()).isTrue();
    assertThat(c.normalizeActivations()).isEqualTo(ActivationNormalization.NONE);
    assertThat(c.dtype()).isEqualTo(DType.F32);
    assertThat(SaeConfig.parse(c.toCfgJson()).toJson()).isEqualTo(c.toJson());
    assertThatThrownBy(() -> SaeConfig.ofTopK(16, 4, 8))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("k must be in (0, d_sae=4]");
  }

  @Test
  void everyFixtureCfgJsonIsRewrittenByteForByte() throws IOException {
    for (Path dir : Fixtures.checkpointDirs()) {
      String text =
          Files.readString(dir.resolve(SaeCheckpoint.CONFIG_FILE), StandardCharsets.UTF_8);
      assertThat(SaeConfig.parse(text).toCfgJson()).as("%s", dir).isEqualTo(text);
    }
  }

  /** Expected strings produced by CPython 3.11 {@code json.dumps}. */
  @Test
  void floatsAreWrittenAsPythonRepr() {
    Object[][] cases = {
      {0.1, "0.1"},
      {1e-05, "1e-05"},
      {0.0001, "0.0001"},
      {1e16, "1e+16"},
      {1e15, "1000000000000000.0"},
      {8.0, "8.0"},
      {-0.0, "-0.0"},
      {0.0, "0.0"},
      {1.5e-07, "1.5e-07"},
      {1.2345678901234568e17, "1.2345678901234568e+17"},
      {Double.NaN, "NaN"},
      {Double.POSITIVE_INFINITY, "Infinity"},
      {Double.NEGATIVE_INFINITY, "-Infinity"},
      {Double.MIN_VALUE, "5e-324"},
      {Double.MAX_VALUE, "1.7976931348623157e+308"},
      {0.1 + 0.2, "0.30000000000000004"},
      {100.0, "100.0"},
      {1e22, "1e+22"},
      {0.0215568, "0.0215568"},
      {1.0 / 3, "0.3333333333333333"},
      {-2.5e-10, "-2.5e-10"},
      {1e-4 * 0.99, "9.900000000000001e-05"},
    };
    for (Object[] c : cases) {
      assertThat(PythonJson.floatRepr((Double) c[0])).as("%s", c[0]).isEqualTo(c[1]);
    }
  }

  @Test
  void stringsAndStructureFollowPythonJsonDumps() {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("a", "é\n\"\\\u0001\u007f😀\t\b\f\r/");
    o.putArray("b")
        .add(1)
        .add(JsonNodeFactory.instance.arrayNode())
        .add(JsonNodeFactory.instance.objectNode());
    o.putNull("c");
    o.put("d", true);
    o.put("e", new java.math.BigInteger("12345678901234567890"));
    assertThat(PythonJson.write(o))
        .isEqualTo(
            "{\"a\": \"\\u00e9\\n\\\"\\\\\\u0001\\u007f\\ud83d\\ude00\\t\\b\\f\\r/\", \"b\": [1, [],"
                + " {}], \"c\": null, \"d\": true, \"e\": 12345678901234567890}");
  }

  @Test
  void pythonNanAndInfinityAreAccepted() {
    SaeConfig c =
        SaeConfig.parse(
            "{\"architecture\": \"standard\", \"d_in\": 2, \"d_sae\": 4, \"x\": NaN, \"y\": -Infinity}");
    assertThat(c.toCfgJson()).endsWith("\"x\": NaN, \"y\": -Infinity}");
    assertThat(c.unknownFields()).containsExactly("x", "y");
  }

  @Test
  void duplicateKeysAndTrailingGarbageAreMalformed() {
    assertThatThrownBy(
            () -> SaeConfig.parse("{\"architecture\": \"standard\", \"d_in\": 2, \"d_in\": 3}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("malformed JSON")
        .hasMessageContaining("d_in");
    assertThatThrownBy(() -> SaeConfig.parse("{\"architecture\": \"standard\"} {}"))
        .hasMessageContaining("malformed JSON");
  }

  @Test
  void trainingConfigsAreRecognised() {
    SaeConfig training = SaeConfig.parse(read("topk_rescale_folded/training_checkpoint"));
    assertThat(training.isTrainingConfig()).isTrue();
    assertThat(training.trainingFields())
        .containsExactly("decoder_init_norm", "use_sparse_activations", "aux_loss_coefficient");
    SaeConfig inference = SaeConfig.parse(read("topk_rescale_folded/sae"));
    assertThat(inference.isTrainingConfig()).isFalse();
    assertThat(
            SaeConfig.parse(read("batchtopk_as_jumprelu/training_checkpoint")).isTrainingConfig())
        .isTrue();
  }

  @Test
  void expectedShapesFollowTheArchitecture() {
    SaeConfig gated = SaeConfig.parse(read("gated/sae"));
    assertThat(gated.expectedTensorShapes().keySet())
        .containsExactly("W_enc", "W_dec", "b_dec", "b_gate", "b_mag", "r_mag");
    assertThat(gated.expectedTensorShapes().get("W_enc")).containsExactly(32, 128);
    SaeConfig batchTopK = SaeConfig.parse(read("batchtopk_scaled/training_checkpoint"));
    assertThat(batchTopK.expectedTensorShapes().get("topk_threshold")).isEmpty();
    assertThat(SaeConfig.parse(read("jumprelu/sae")).expectedTensorShapes().get("threshold"))
        .containsExactly(160);
  }

  @Test
  void foldProvenanceRoundTripsThroughMetadata() {
    SaeConfig c = SaeConfig.parse(read("standard/sae"));
    assertThat(c.foldProvenance()).isEqualTo(FoldProvenance.NONE);
    FoldProvenance p =
        FoldProvenance.NONE
            .withDecoderNormFolded()
            .withActivationScale(0.0215568)
            .withConvertedFrom(Architecture.BATCHTOPK);
    SaeConfig recorded = c.withFoldProvenance(p);
    assertThat(recorded.toCfgJson())
        .contains(
            "\"hook_name\": \"blocks.0.hook_resid_post\", \"sae_stream_fold\":"
                + " {\"decoder_norm_folded\": true, \"activation_scale\": 0.0215568,"
                + " \"converted_from\": \"batchtopk\"}}");
    assertThat(SaeConfig.parse(recorded.toCfgJson()).foldProvenance()).isEqualTo(p);
    assertThat(p.toJsonText())
        .isEqualTo(
            "{\"decoder_norm_folded\": true, \"activation_scale\": 0.0215568, \"converted_from\":"
                + " \"batchtopk\"}");
    assertThat(recorded.withFoldProvenance(FoldProvenance.NONE).toCfgJson())
        .isEqualTo(c.toCfgJson());
  }

  @Test
  void malformedFoldProvenanceNamesTheField() {
    assertThatThrownBy(
            () ->
                SaeConfig.parse(
                    "{\"architecture\": \"standard\", \"d_in\": 2, \"d_sae\": 4, \"metadata\":"
                        + " {\"sae_stream_fold\": {\"activation_scale\": -1}}}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("metadata.sae_stream_fold.activation_scale must be finite and > 0");
  }

  @Test
  void metadataMustBeAnObject() {
    assertThatThrownBy(
            () ->
                SaeConfig.parse(
                    "{\"architecture\": \"standard\", \"d_in\": 2, \"d_sae\": 4, \"metadata\": 3}"))
        .hasMessageContaining("metadata must be an object, was 3");
  }

  private static String read(String dir) {
    try {
      return Files.readString(
          Fixtures.root().resolve(dir).resolve(SaeCheckpoint.CONFIG_FILE), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
