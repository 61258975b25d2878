package io.saestream.sae.fold;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.saestream.sae.checkpoint.Architecture;
import io.saestream.sae.checkpoint.DType;
import io.saestream.sae.checkpoint.Fixtures;
import io.saestream.sae.checkpoint.FloatTensor;
import io.saestream.sae.checkpoint.FoldProvenance;
import io.saestream.sae.checkpoint.HalfPrecision;
import io.saestream.sae.checkpoint.ReadOptions;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;
import io.saestream.sae.checkpoint.Tensor;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FoldingTest {

  /** Largest elementwise |a - b| / |b| (0 where both are 0). */
  private static double maxRelDiff(Tensor a, Tensor b) {
    assertThat(a.shape()).isEqualTo(b.shape());
    float[] x = a.toFloatArray();
    float[] y = b.toFloatArray();
    double worst = 0;
    for (int i = 0; i < x.length; i++) {
      if (x[i] != y[i]) {
        worst = Math.max(worst, Math.abs((double) x[i] - y[i]) / Math.abs((double) y[i]));
      }
    }
    return worst;
  }

  /** cfg fields (top level) and values equal, ignoring our fold record in metadata. */
  private static void assertSameConfigIgnoringFoldRecord(SaeConfig ours, SaeConfig saeLens) {
    ObjectNode a = ours.toJson();
    ((ObjectNode) a.get("metadata")).remove(FoldProvenance.METADATA_FIELD);
    ObjectNode b = saeLens.toJson();
    Set<String> fa = new HashSet<>();
    a.fieldNames().forEachRemaining(fa::add);
    Set<String> fb = new HashSet<>();
    b.fieldNames().forEachRemaining(fb::add);
    assertThat(fa).isEqualTo(fb);
    assertThat(a).isEqualTo(b);
  }

  @Test
  void topkRescaleFoldedMatchesSaeLensSaveInferenceModel() {
    try (SaeCheckpoint training =
            SaeCheckpoint.open(Fixtures.trainingCheckpoint("topk_rescale_folded"));
        SaeCheckpoint saeLens = SaeCheckpoint.open(Fixtures.sae("topk_rescale_folded"))) {
      SaeCheckpoint folded = Folding.foldDecoderNorm(training);
      SaeCheckpoint inference = Folding.toInference(training);
      for (String name : saeLens.tensors().keySet()) {
        assertThat(maxRelDiff(folded.tensor(name), saeLens.tensor(name))).as(name).isLessThan(1e-6);
        assertThat(maxRelDiff(inference.tensor(name), saeLens.tensor(name)))
            .as(name)
            .isLessThan(1e-6);
      }
      assertThat(folded.config().foldProvenance().decoderNormFolded()).isTrue();
      assertSameConfigIgnoringFoldRecord(inference.config(), saeLens.config());
      assertThat(inference.config().rescaleActsByDecoderNorm()).isTrue();
      // The norms folded are the fixture's W_dec_norm (float32), and the rows are now unit.
      float[] norms = Fixtures.expected("topk_rescale_folded").get("W_dec_norm");
      double[] ours = DecoderNorms.of(training.tensor("W_dec"));
      for (int j = 0; j < norms.length; j++) {
        assertThat(Math.abs(ours[j] - norms[j]) / norms[j]).isLessThan(2e-7);
      }
      assertThat(DecoderNorms.allUnit(DecoderNorms.of(inference.tensor("W_dec")), DType.F32))
          .isTrue();
    }
  }

  @Test
  void topkAlreadyFoldedBySaeLensIsLeftBitIdentical() {
    try (SaeCheckpoint saeLens = SaeCheckpoint.open(Fixtures.sae("topk_rescale_folded"))) {
      SaeCheckpoint inference = Folding.toInference(saeLens);
      for (String name : saeLens.tensors().keySet()) {
        assertThat(inference.tensor(name)).isSameAs(saeLens.tensor(name));
      }
      assertThat(inference.config().foldProvenance())
          .isEqualTo(FoldProvenance.NONE.withDecoderNormFolded());
    }
  }

  @Test
  void writtenFoldReadsBackEqualToTheLazyView(@TempDir Path tmp) {
    Path out = tmp.resolve("folded");
    try (SaeCheckpoint training =
        SaeCheckpoint.open(Fixtures.trainingCheckpoint("topk_rescale_folded"))) {
      SaeCheckpoint inference = Folding.toInference(training);
      inference.write(out);
      try (SaeCheckpoint back = SaeCheckpoint.open(out)) {
        for (String name : inference.tensors().keySet()) {
          assertThat(back.tensor(name).toFloatArray())
              .isEqualTo(inference.tensor(name).toFloatArray());
        }
        assertThat(back.config().toCfgJson()).isEqualTo(inference.config().toCfgJson());
        assertThat(back.config().foldProvenance().decoderNormFolded()).isTrue();
      }
    }
  }

  @Test
  void batchTopKAsJumpReluMatchesSaeLensWithExactThreshold() {
    try (SaeCheckpoint training =
            SaeCheckpoint.open(Fixtures.trainingCheckpoint("batchtopk_as_jumprelu"));
        SaeCheckpoint saeLens = SaeCheckpoint.open(Fixtures.sae("batchtopk_as_jumprelu"))) {
      SaeCheckpoint converted = Folding.batchTopKToJumpRelu(training);
      assertConverted(converted, saeLens);
      Fixtures.Expected expected = Fixtures.expected("batchtopk_as_jumprelu");
      assertThat(new ReferenceSae(converted).l0(expected.get("x"), 1))
          .isEqualTo(expected.scalar("l0_infer"));
      // toInference is the same conversion (the decoder is already folded: not folded twice).
      SaeCheckpoint inference = Folding.toInference(training);
      for (String name : saeLens.tensors().keySet()) {
        assertThat(inference.tensor(name).toFloatArray())
            .isEqualTo(converted.tensor(name).toFloatArray());
      }
    }
  }

  @Test
  void batchTopKScaledConvertsAsSaeLensDoes() {
    try (SaeCheckpoint training =
            SaeCheckpoint.open(Fixtures.trainingCheckpoint("batchtopk_scaled"));
        SaeCheckpoint saeLens = SaeCheckpoint.open(Fixtures.sae("batchtopk_scaled"))) {
      SaeCheckpoint converted = Folding.batchTopKToJumpRelu(training);
      assertConverted(converted, saeLens);
      // sae-lens's training_checkpoint has its scale folded without the threshold fix: L0 drifts.
      Fixtures.Expected expected = Fixtures.expected("batchtopk_scaled");
      assertThat(new ReferenceSae(converted).l0(expected.get("x"), 1))
          .isEqualTo(expected.scalar("l0_infer"))
          .isEqualTo(47.4375);
    }
  }

  private static void assertConverted(SaeCheckpoint converted, SaeCheckpoint saeLens) {
    assertThat(converted.tensors().keySet())
        .containsExactlyInAnyOrderElementsOf(saeLens.tensors().keySet());
    for (String name : saeLens.tensors().keySet()) {
      assertThat(maxRelDiff(converted.tensor(name), saeLens.tensor(name)))
          .as(name)
          .isLessThan(1e-6);
    }
    assertThat(converted.tensor("threshold").toFloatArray())
        .isEqualTo(saeLens.tensor("threshold").toFloatArray());
    assertThat(converted.tensor("threshold").dtype()).isEqualTo(DType.F32);
    assertSameConfigIgnoringFoldRecord(converted.config(), saeLens.config());
    assertThat(converted.config().foldProvenance())
        .isEqualTo(
            FoldProvenance.NONE.withDecoderNormFolded().withConvertedFrom(Architecture.BATCHTOPK));
  }

  /**
   * batchtopk_scaled, the sae-lens bug: rebuild the checkpoint as it was before sae-lens folded the
   * activation scale s (weights for s*x), fold it with {@link Folding#foldActivationScale} and
   * convert. The threshold becomes theta/s and the JumpReLU fires as in training (L0 7.16, the
   * fixture's l0_infer_threshold_div_s), where sae-lens's fold keeps theta (L0 47.44).
   */
  @Test
  void foldingTheActivationScaleDividesTheBatchTopKThreshold() {
    Fixtures.Expected expected = Fixtures.expected("batchtopk_scaled");
    float s = expected.scalar("scaling_factor");
    float[] x = expected.get("x");
    try (SaeCheckpoint saeLensFolded =
        SaeCheckpoint.open(Fixtures.trainingCheckpoint("batchtopk_scaled"))) {
      SaeCheckpoint unfolded = unfoldActivationScale(saeLensFolded, s);
      SaeCheckpoint ours = Folding.foldActivationScale(unfolded, s);
      assertThat(ours.config().foldProvenance().activationScale()).isEqualTo((double) s);
      assertThat(ours.config().toCfgJson()).contains("\"normalize_activations\": \"none\"");
      double[] theta = new double[1];
      saeLensFolded.tensor("topk_threshold").readDoubles(0, theta, 0, 1);
      double[] corrected = new double[1];
      ours.tensor("topk_threshold").readDoubles(0, corrected, 0, 1);
      assertThat(corrected[0]).isEqualTo(theta[0] / (double) s);
      // The weights are sae-lens's own fold up to the float rounding of the rebuild.
      for (String name : new String[] {"W_enc", "W_dec", "b_dec", "b_enc"}) {
        assertThat(maxRelDiff(ours.tensor(name), saeLensFolded.tensor(name)))
            .as(name)
            .isLessThan(3e-7);
      }

      SaeCheckpoint jumpRelu = Folding.toInference(ours);
      assertThat(jumpRelu.config().architecture()).isEqualTo(Architecture.JUMPRELU);
      assertThat(jumpRelu.tensor("threshold").toFloatArray()[0]).isEqualTo((float) (theta[0] / s));
      assertThat(new ReferenceSae(jumpRelu).l0(x, 1))
          .isEqualTo(expected.scalar("l0_infer_threshold_div_s"))
          .isEqualTo(7.15625);
      // Feature activations equal the fixture's encode(x) with threshold / s.
      float[] want = expected.get("feature_acts_threshold_div_s");
      ReferenceSae ref = new ReferenceSae(jumpRelu);
      int dSae = jumpRelu.config().dSae();
      double maxAbs = 0;
      double maxDiff = 0;
      for (int row = 0; row < ref.rows(x); row++) {
        double[] f = ref.encode(x, row, 1);
        for (int j = 0; j < dSae; j++) {
          assertThat(f[j] != 0).isEqualTo(want[row * dSae + j] != 0);
          maxAbs = Math.max(maxAbs, Math.abs(want[row * dSae + j]));
          maxDiff = Math.max(maxDiff, Math.abs(f[j] - want[row * dSae + j]));
        }
      }
      assertThat(maxDiff / maxAbs).isLessThan(1e-5);

      // Without the correction (what sae-lens saves) the same weights give the drifted L0.
      SaeCheckpoint saeLensWay =
          SaeCheckpoint.of(
              jumpRelu.config(),
              withTensor(
                  jumpRelu, "threshold", constant(jumpRelu.config().dSae(), (float) theta[0])));
      assertThat(new ReferenceSae(saeLensWay).l0(x, 1)).isEqualTo(47.4375);
    }
  }

  /**
   * A JumpReLU trained on s*x keeps its threshold when s is folded: the pre-activation on raw x
   * after the fold equals the training pre-activation on s*x, so the same latents fire with the
   * same values, and the reconstruction is the training one divided by s.
   */
  @Test
  void foldingTheActivationScaleKeepsAJumpReluThreshold() {
    Fixtures.Expected expected = Fixtures.expected("jumprelu");
    float[] x = expected.get("x");
    double s = 0.37;
    try (SaeCheckpoint fixture = SaeCheckpoint.open(Fixtures.sae("jumprelu"))) {
      ObjectNode json = fixture.config().toJson();
      json.put("normalize_activations", "expected_average_only_in");
      // Interpret the fixture's weights as trained on s*x (sae-lens ignores the mode at run time).
      SaeCheckpoint trainedOnScaled = SaeCheckpoint.of(SaeConfig.fromJson(json), fixture.tensors());
      SaeCheckpoint folded = Folding.foldActivationScale(trainedOnScaled, s);
      assertThat(folded.tensor("threshold")).isSameAs(fixture.tensor("threshold"));

      ReferenceSae train = new ReferenceSae(trainedOnScaled);
      ReferenceSae served = new ReferenceSae(folded);
      double worstF = 0;
      double maxF = 0;
      double worstOut = 0;
      double maxOut = 0;
      int active = 0;
      for (int row = 0; row < train.rows(x); row++) {
        double[] fTrain = train.encode(x, row, s);
        double[] fServed = served.encode(x, row, 1);
        for (int j = 0; j < fTrain.length; j++) {
          assertThat(fServed[j] != 0).as("row %d latent %d", row, j).isEqualTo(fTrain[j] != 0);
          if (fTrain[j] != 0) {
            active++;
          }
          maxF = Math.max(maxF, Math.abs(fTrain[j]));
          worstF = Math.max(worstF, Math.abs(fServed[j] - fTrain[j]));
        }
        double[] outTrain = train.decode(fTrain);
        double[] outServed = served.decode(fServed);
        for (int i = 0; i < outTrain.length; i++) {
          maxOut = Math.max(maxOut, Math.abs(outTrain[i] / s));
          worstOut = Math.max(worstOut, Math.abs(outServed[i] - outTrain[i] / s));
        }
      }
      assertThat(active).isGreaterThan(100);
      // Both sides use the same float32 weights up to one rounding of W_enc*s, W_dec/s, b_dec/s.
      assertThat(worstF / maxF).isLessThan(1e-6);
      assertThat(worstOut / maxOut).isLessThan(1e-6);
      // Dividing this threshold by s (the BatchTopK fix) would be wrong here: L0 would change.
      SaeCheckpoint divided =
          SaeCheckpoint.of(
              folded.config(),
              withTensor(
                  folded,
                  "threshold",
                  ScaledTensor.all(folded.tensor("threshold"), ScaledTensor.Op.DIVIDE, s)));
      assertThat(new ReferenceSae(divided).l0(x, 1)).isNotEqualTo(served.l0(x, 1));
    }
  }

  @Test
  void decoderNormFoldPreservesJumpReluAndGatedOutputs() {
    for (String fixtureCase : new String[] {"jumprelu", "gated", "standard"}) {
      Fixtures.Expected expected = Fixtures.expected(fixtureCase);
      float[] x = expected.get("x");
      float[] saeOut = expected.get("sae_out");
      float[] featureActs = expected.get("feature_acts");
      try (SaeCheckpoint sae = SaeCheckpoint.open(Fixtures.sae(fixtureCase))) {
        SaeCheckpoint folded = Folding.foldDecoderNorm(sae);
        double[] n = DecoderNorms.of(sae.tensor("W_dec"));
        ReferenceSae ref = new ReferenceSae(folded);
        int dIn = sae.config().dIn();
        int dSae = sae.config().dSae();
        double maxOut = 0;
        double diffOut = 0;
        double maxF = 0;
        double diffF = 0;
        for (int row = 0; row < ref.rows(x); row++) {
          double[] f = ref.encode(x, row, 1);
          double[] out = ref.decode(f);
          for (int j = 0; j < dSae; j++) {
            double want = featureActs[row * dSae + j] * n[j];
            if (!fixtureCase.equals("standard")) {
              // The jumprelu and gated fixtures guarantee decision margins; a ReLU at 0 has none.
              assertThat(f[j] != 0)
                  .as("%s row %d latent %d", fixtureCase, row, j)
                  .isEqualTo(want != 0);
            }
            maxF = Math.max(maxF, Math.abs(want));
            diffF = Math.max(diffF, Math.abs(f[j] - want));
          }
          for (int i = 0; i < dIn; i++) {
            maxOut = Math.max(maxOut, Math.abs(saeOut[row * dIn + i]));
            diffOut = Math.max(diffOut, Math.abs(out[i] - saeOut[row * dIn + i]));
          }
        }
        assertThat(diffF / maxF).as(fixtureCase).isLessThan(1e-5);
        assertThat(diffOut / maxOut).as(fixtureCase).isLessThan(1e-5);
        if (sae.has("r_mag")) {
          assertThat(folded.tensor("r_mag")).isSameAs(sae.tensor("r_mag"));
          float[] bGate = sae.tensor("b_gate").toFloatArray();
          float[] bGateFolded = folded.tensor("b_gate").toFloatArray();
          for (int j = 0; j < dSae; j++) {
            assertThat(bGateFolded[j]).isEqualTo(bGate[j] * (float) n[j]);
          }
        }
        if (sae.has("threshold")) {
          float[] th = sae.tensor("threshold").toFloatArray();
          float[] thFolded = folded.tensor("threshold").toFloatArray();
          for (int j = 0; j < dSae; j++) {
            assertThat(thFolded[j]).isEqualTo(th[j] * (float) n[j]);
          }
        }
      }
    }
  }

  @Test
  void decoderNormFoldUsesFloat32DivisionAndMultiplication() {
    try (SaeCheckpoint sae = SaeCheckpoint.open(Fixtures.sae("standard"))) {
      SaeCheckpoint folded = Folding.foldDecoderNorm(sae);
      double[] n = DecoderNorms.of(sae.tensor("W_dec"));
      float[] wDec = sae.tensor("W_dec").toFloatArray();
      float[] wDecFolded = folded.tensor("W_dec").toFloatArray();
      float[] wEnc = sae.tensor("W_enc").toFloatArray();
      float[] wEncFolded = folded.tensor("W_enc").toFloatArray();
      int dIn = 16;
      int dSae = 64;
      for (int j = 0; j < dSae; j++) {
        for (int i = 0; i < dIn; i++) {
          assertThat(wDecFolded[j * dIn + i]).isEqualTo(wDec[j * dIn + i] / (float) n[j]);
          assertThat(wEncFolded[i * dSae + j]).isEqualTo(wEnc[i * dSae + j] * (float) n[j]);
        }
      }
    }
  }

  @Test
  void toInferenceKeepsTheLatentsSaeLensGivesForStandardJumpReluAndGated() {
    for (String fixture : List.of("standard", "jumprelu", "gated", "standard_bf16")) {
      try (SaeCheckpoint sae = SaeCheckpoint.open(Fixtures.sae(fixture))) {
        SaeCheckpoint served = Folding.toInference(sae);
        assertThat(served.tensors()).as(fixture).isEqualTo(sae.tensors());
        assertThat(served.config().foldProvenance().decoderNormFolded()).as(fixture).isFalse();
      }
    }
  }

  @Test
  void bf16FoldStaysBf16WithTorchRounding(@TempDir Path tmp) {
    try (SaeCheckpoint sae = SaeCheckpoint.open(Fixtures.sae("standard_bf16"))) {
      SaeCheckpoint folded = Folding.foldDecoderNorm(sae);
      assertThat(folded.tensor("W_dec").dtype()).isEqualTo(DType.BF16);
      double[] n = DecoderNorms.of(sae.tensor("W_dec"));
      float[] wDec = sae.tensor("W_dec").toFloatArray();
      float[] wDecFolded = folded.tensor("W_dec").toFloatArray();
      for (int k = 0; k < wDec.length; k++) {
        float nj = (float) n[k / 32];
        assertThat(HalfPrecision.roundTo(DType.BF16, nj)).isEqualTo(nj);
        assertThat(wDecFolded[k]).isEqualTo(HalfPrecision.roundTo(DType.BF16, wDec[k] / nj));
      }
      Path out = tmp.resolve("bf16");
      folded.write(out);
      try (SaeCheckpoint back = SaeCheckpoint.open(out)) {
        assertThat(back.tensor("W_dec").dtype()).isEqualTo(DType.BF16);
        assertThat(back.tensor("W_dec").toFloatArray()).isEqualTo(wDecFolded);
      }
    }
  }

  @Test
  void topkWithoutRescaleIsNeverDecoderFolded() {
    try (SaeCheckpoint topk = SaeCheckpoint.open(Fixtures.sae("topk_plain"))) {
      assertThatThrownBy(() -> Folding.foldDecoderNorm(topk))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("rescale_acts_by_decoder_norm=false")
          .hasMessageContaining("change which latents win");
      SaeCheckpoint inference = Folding.toInference(topk);
      assertThat(inference.tensors()).isEqualTo(topk.tensors());
      assertThat(inference.config().foldProvenance()).isEqualTo(FoldProvenance.NONE);
    }
  }

  @Test
  void toInferenceDropsTrainingFields() {
    try (SaeCheckpoint training =
        SaeCheckpoint.open(Fixtures.trainingCheckpoint("train_step_topk"))) {
      SaeConfig cfg = Folding.toInference(training).config();
      assertThat(cfg.isTrainingConfig()).isFalse();
      assertThat(cfg.toCfgJson())
          .doesNotContain("decoder_init_norm")
          .contains("\"k\": 8")
          .contains("\"rescale_acts_by_decoder_norm\": true");
    }
  }

  @Test
  void activationScaleFoldRefusesWhatItCannotFold() {
    try (SaeCheckpoint sae = SaeCheckpoint.open(Fixtures.sae("standard"))) {
      assertThatThrownBy(() -> Folding.foldActivationScale(sae, 0.5))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("normalize_activations is none, not expected_average_only_in");
      ObjectNode json = sae.config().toJson();
      json.put("normalize_activations", "expected_average_only_in");
      SaeCheckpoint unfolded = SaeCheckpoint.of(SaeConfig.fromJson(json), sae.tensors());
      for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
        assertThatThrownBy(() -> Folding.foldActivationScale(unfolded, bad))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("activation scale must be finite and > 0");
      }
      assertThatThrownBy(() -> Folding.toInference(unfolded))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("fold the training activation scale first");
      SaeCheckpoint once = Folding.foldActivationScale(unfolded, 0.5);
      assertThatThrownBy(() -> Folding.foldActivationScale(once, 0.5))
          .hasMessageContaining("already folded: 0.5");
    }
  }

  @Test
  void batchTopKConversionRefusesOtherArchitectures() {
    try (SaeCheckpoint sae = SaeCheckpoint.open(Fixtures.sae("jumprelu"))) {
      assertThatThrownBy(() -> Folding.batchTopKToJumpRelu(sae))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("only a batchtopk SAE converts to jumprelu, this is jumprelu");
    }
  }

  @Test
  void batchTopKWithoutRescaleConvertsUnfoldedThenToInferenceFoldsAsJumpRelu() {
    try (SaeCheckpoint training =
        SaeCheckpoint.open(Fixtures.trainingCheckpoint("batchtopk_as_jumprelu"))) {
      ObjectNode json = training.config().toJson();
      json.put("rescale_acts_by_decoder_norm", false);
      SaeCheckpoint plain = SaeCheckpoint.of(SaeConfig.fromJson(json), training.tensors());
      SaeCheckpoint converted = Folding.batchTopKToJumpRelu(plain);
      assertThat(converted.tensor("W_dec")).isSameAs(training.tensor("W_dec"));
      assertThat(converted.config().foldProvenance().decoderNormFolded()).isFalse();
      SaeCheckpoint inference = Folding.foldDecoderNorm(Folding.toInference(plain));
      assertThat(inference.config().foldProvenance().decoderNormFolded()).isTrue();
      double[] n = DecoderNorms.of(training.tensor("W_dec"));
      float theta = converted.tensor("threshold").toFloatArray()[0];
      float[] th = inference.tensor("threshold").toFloatArray();
      for (int j = 0; j < th.length; j++) {
        assertThat(th[j]).isEqualTo(theta * (float) n[j]);
      }
    }
  }

  @Test
  void unfoldedActivationScaleCanBeOpenedForFolding(@TempDir Path tmp) {
    try (SaeCheckpoint training =
        SaeCheckpoint.open(Fixtures.trainingCheckpoint("batchtopk_scaled"))) {
      Path dir = tmp.resolve("unfolded");
      unfoldActivationScale(training, 0.5f).write(dir);
      try (SaeCheckpoint reopened =
          SaeCheckpoint.open(dir, ReadOptions.defaults().withAllowUnfoldedActivationScale(true))) {
        SaeCheckpoint served = Folding.toInference(Folding.foldActivationScale(reopened, 0.5));
        assertThat(served.config().foldProvenance())
            .isEqualTo(new FoldProvenance(true, 0.5, Architecture.BATCHTOPK));
      }
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** The checkpoint before sae-lens's fold_activation_norm_scaling_factor(s), in float32. */
  private static SaeCheckpoint unfoldActivationScale(SaeCheckpoint folded, float s) {
    Map<String, Tensor> t = new LinkedHashMap<>(folded.tensors());
    t.put("W_enc", map(folded.tensor("W_enc"), v -> v / s));
    t.put("W_dec", map(folded.tensor("W_dec"), v -> v * s));
    t.put("b_dec", map(folded.tensor("b_dec"), v -> v * s));
    ObjectNode json = folded.config().toJson();
    json.put("normalize_activations", "expected_average_only_in");
    return SaeCheckpoint.of(SaeConfig.fromJson(json), t);
  }

  private interface FloatOp {
    float apply(float v);
  }

  private static Tensor map(Tensor t, FloatOp op) {
    float[] v = t.toFloatArray();
    for (int i = 0; i < v.length; i++) {
      v[i] = op.apply(v[i]);
    }
    return FloatTensor.of(v, t.shape());
  }

  private static Tensor constant(int n, float value) {
    float[] v = new float[n];
    java.util.Arrays.fill(v, value);
    return FloatTensor.of(v, n);
  }

  private static Map<String, Tensor> withTensor(SaeCheckpoint c, String name, Tensor t) {
    Map<String, Tensor> m = new LinkedHashMap<>(c.tensors());
    m.put(name, t);
    return m;
  }
}
