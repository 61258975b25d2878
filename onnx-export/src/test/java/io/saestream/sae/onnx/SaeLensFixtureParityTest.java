package io.saestream.sae.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.sae.checkpoint.Architecture;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.fold.Folding;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The exported analyze graph, run by ONNX Runtime, against the outputs real sae-lens 6.18 produced
 * for every fixture SAE (../fixtures/saelens). Tolerance 1e-5 of the largest reference value, the
 * scale of float32 rounding the fixtures document ({@code f32_vs_f64_rel_sae_out} ≤ 4.3e-7); the
 * bf16 SAE is held to the same bound, since its weights convert to float32 exactly and sae-lens
 * computed its reference in float32. Active latent sets must be identical: the fixture generator
 * rejected seeds with decision margins below 2e-5.
 */
class SaeLensFixtureParityTest {

  private static final double TOLERANCE = 1e-5;

  static Stream<Arguments> fixtureSaes() {
    return Stream.of(
        Arguments.of("topk_rescale_folded", "sae", "feature_acts_loaded", "sae_out_loaded"),
        Arguments.of("topk_rescale_folded", "sae", "feature_acts", "sae_out"),
        Arguments.of(
            "topk_rescale_folded", "training_checkpoint", "feature_acts_ckpt", "sae_out_ckpt"),
        Arguments.of("topk_plain", "sae", "feature_acts", "sae_out"),
        Arguments.of("topk_layer_norm", "sae", "feature_acts", "sae_out"),
        Arguments.of("standard", "sae", "feature_acts", "sae_out"),
        Arguments.of("standard_bf16", "sae", "feature_acts", "sae_out"),
        Arguments.of("standard_constant_norm_rescale", "sae", "feature_acts", "sae_out"),
        Arguments.of("jumprelu", "sae", "feature_acts", "sae_out"),
        Arguments.of("gated", "sae", "feature_acts", "sae_out"),
        Arguments.of("batchtopk_as_jumprelu", "sae", "feature_acts", "sae_out"),
        Arguments.of("batchtopk_scaled", "sae", "feature_acts", "sae_out"));
  }

  @ParameterizedTest(name = "{0}/{1} vs {2}, {3}")
  @MethodSource("fixtureSaes")
  void analyzeGraphReproducesSaeLens(String fixture, String dir, String acts, String out)
      throws Exception {
    Map<String, float[]> expected = SaeLensFixtures.expected(fixture);
    try (SaeCheckpoint sae = SaeCheckpoint.open(SaeLensFixtures.saeDir(fixture, dir))) {
      assertParity(
          sae, expected, tensor(expected, acts), tensor(expected, out), fixture + "/" + dir);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("batchTopKCases")
  void batchTopKTrainingCheckpointIsRefusedButExportsOnceConverted(String fixture)
      throws Exception {
    Map<String, float[]> expected = SaeLensFixtures.expected(fixture);
    Path dir = SaeLensFixtures.saeDir(fixture, "training_checkpoint");
    try (SaeCheckpoint training = SaeCheckpoint.open(dir)) {
      assertThat(training.config().architecture()).isEqualTo(Architecture.BATCHTOPK);
      assertThatThrownBy(() -> SaeOnnxExporter.exportToBytes(training, ExportOptions.defaults()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("batchtopk is training-only")
          .hasMessageContaining("Folding.toInference");
      // Folding's conversion is sae-lens's save_inference_model: the same JumpReLU as sae/.
      SaeCheckpoint jumpRelu = Folding.toInference(training);
      assertParity(
          jumpRelu,
          expected,
          tensor(expected, "feature_acts"),
          tensor(expected, "sae_out"),
          fixture + " converted");
    }
  }

  static Stream<Arguments> trainingCheckpoints() {
    return Stream.of(
        Arguments.of("topk_rescale_folded", "feature_acts", "sae_out"),
        Arguments.of("batchtopk_as_jumprelu", "feature_acts", "sae_out"),
        Arguments.of("batchtopk_scaled", "feature_acts", "sae_out"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("trainingCheckpoints")
  void checkpointWeFoldAndWriteFromATrainingSaeGivesSaeLensOutputsAgain(
      String fixture, String acts, String out, @TempDir Path tmp) throws Exception {
    Map<String, float[]> expected = SaeLensFixtures.expected(fixture);
    Path written = tmp.resolve("inference");
    try (SaeCheckpoint training =
        SaeCheckpoint.open(SaeLensFixtures.saeDir(fixture, "training_checkpoint"))) {
      Folding.toInference(training).write(written);
    }
    try (SaeCheckpoint reread = SaeCheckpoint.open(written)) {
      assertThat(reread.config().architecture()).isIn(Architecture.TOPK, Architecture.JUMPRELU);
      assertParity(
          reread,
          expected,
          tensor(expected, acts),
          tensor(expected, out),
          fixture + " folded, written, re-read");
    }
  }

  static Stream<String> batchTopKCases() {
    return Stream.of("batchtopk_as_jumprelu", "batchtopk_scaled");
  }

  @Test
  void missingFixturesFailInsteadOfSkipping() {
    String previous = System.getProperty(SaeLensFixtures.PROPERTY);
    System.setProperty(SaeLensFixtures.PROPERTY, "/nonexistent/fixtures");
    try {
      assertThatThrownBy(SaeLensFixtures::root)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("/nonexistent/fixtures");
    } finally {
      if (previous == null) {
        System.clearProperty(SaeLensFixtures.PROPERTY);
      } else {
        System.setProperty(SaeLensFixtures.PROPERTY, previous);
      }
    }
  }

  private static void assertParity(
      SaeCheckpoint sae,
      Map<String, float[]> expected,
      float[] featureActs,
      float[] saeOut,
      String what)
      throws Exception {
    int dIn = sae.config().dIn();
    int dSae = sae.config().dSae();
    float[] xFlat = tensor(expected, "x");
    int n = xFlat.length / dIn;
    float[][] x = new float[n][dIn];
    for (int r = 0; r < n; r++) {
      System.arraycopy(xFlat, r * dIn, x[r], 0, dIn);
    }
    // K = d_sae for non-topk SAEs: no row can overflow, so the comparison is exact.
    ExportOptions options =
        sae.config().architecture() == Architecture.TOPK
            ? ExportOptions.defaults()
            : ExportOptions.defaults().withMaxActive(dSae);
    AnalyzeOutputs got;
    try (OrtModel m = OrtModel.load(SaeOnnxExporter.exportToBytes(sae, options))) {
      got = AnalyzeOutputs.of(m.run(x));
    }

    double maxActs = maxAbs(featureActs);
    double maxOut = maxAbs(saeOut);
    double worstActs = 0;
    double worstOut = 0;
    for (int r = 0; r < n; r++) {
      float[] dense = new float[dSae];
      for (int s = 0; s < got.indices()[r].length; s++) {
        long idx = got.indices()[r][s];
        if (idx >= 0) {
          dense[(int) idx] = got.values()[r][s];
        } else {
          assertThat(got.values()[r][s]).as(what + " row " + r + " unused slot").isZero();
        }
      }
      long l0 = 0;
      for (int j = 0; j < dSae; j++) {
        float ref = featureActs[r * dSae + j];
        assertThat(dense[j] > 0)
            .as(what + " row " + r + " latent " + j + " active (reference " + ref + ")")
            .isEqualTo(ref > 0);
        l0 += ref > 0 ? 1 : 0;
        worstActs = Math.max(worstActs, Math.abs(dense[j] - ref));
      }
      assertThat(got.l0()[r]).as(what + " row " + r + " l0").isEqualTo(l0);
      assertThat(got.dropped()[r]).as(what + " row " + r + " dropped").isZero();
      double sse = 0;
      double xx = 0;
      for (int i = 0; i < dIn; i++) {
        double ref = saeOut[r * dIn + i];
        worstOut = Math.max(worstOut, Math.abs(got.saeOut()[r][i] - ref));
        sse += (ref - x[r][i]) * (ref - x[r][i]);
        xx += (double) x[r][i] * x[r][i];
      }
      // sse inherits the reconstruction's rounding, relative to both ‖x‖² and sse itself.
      assertThat(Math.abs(got.sse()[r] - sse))
          .as(what + " row " + r + " sse")
          .isLessThanOrEqualTo(1e-5 * (xx + sse));
      assertThat(Math.abs(got.relativeError()[r] - sse / xx))
          .as(what + " row " + r + " relative_error")
          .isLessThanOrEqualTo(1e-5 * (1 + sse / xx));
    }
    assertThat(worstActs / maxActs)
        .as(what + " feature_acts relative error")
        .isLessThanOrEqualTo(TOLERANCE);
    assertThat(worstOut / maxOut)
        .as(what + " sae_out relative error")
        .isLessThanOrEqualTo(TOLERANCE);
  }

  private static float[] tensor(Map<String, float[]> expected, String name) {
    float[] t = expected.get(name);
    if (t == null) {
      throw new AssertionError("expected.safetensors has no " + name + ": " + expected.keySet());
    }
    return t;
  }

  private static double maxAbs(float[] v) {
    double m = 0;
    for (float f : v) {
      m = Math.max(m, Math.abs(f));
    }
    return m;
  }
}
