package io.saestream.sae.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import io.saestream.sae.checkpoint.ActivationNormalization;
import io.saestream.sae.checkpoint.Architecture;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The K-slot contract on hand-built SAEs whose pre-activations are exactly {@code b_enc}: feeding
 * {@code x = b_dec} makes {@code sae_in} exactly zero, so ties and zeros are exact, not rounding
 * accidents.
 */
class SlotContractTest {

  private static final int D_IN = 8;
  private static final int D_SAE = 16;

  @Test
  void topkTiesGoToTheLowerLatentIndexInDescendingValueOrder() throws Exception {
    float[] bEnc = TestSaes.filled(D_SAE, -1f);
    bEnc[4] = 2f;
    bEnc[12] = 5f;
    bEnc[2] = 5f;
    bEnc[9] = 5f;
    SaeCheckpoint sae = topk(bEnc, 2);

    AnalyzeOutputs out = analyzeAtZero(sae, ExportOptions.defaults());

    // ONNX TopK (and ORT's kernel) order equal values by ascending index; torch.topk does not
    // promise any order, so exact ties are the one place sae-lens itself is unspecified.
    assertThat(out.indices()[0]).containsExactly(2, 9);
    assertThat(out.values()[0]).containsExactly(5f, 5f);
    assertThat(out.l0()[0]).isEqualTo(2);
    assertThat(out.dropped()[0]).isZero();
  }

  @Test
  void topkSlotsWhosePreActivationIsNotPositiveAreUnused() throws Exception {
    float[] bEnc = TestSaes.filled(D_SAE, -1f);
    bEnc[3] = 2f;
    bEnc[7] = 0f;
    SaeCheckpoint sae = topk(bEnc, 4);

    AnalyzeOutputs out = analyzeAtZero(sae, ExportOptions.defaults());

    assertThat(out.indices()[0]).containsExactly(3, -1, -1, -1);
    assertThat(out.values()[0]).containsExactly(2f, 0f, 0f, 0f);
    assertThat(out.l0()[0]).isEqualTo(1);
    assertThat(out.dropped()[0]).isZero();
  }

  @Test
  void moreFiringLatentsThanSlotsKeepsTheLargestAndCountsTheDropped() throws Exception {
    SaeCheckpoint base = TestSaes.random(TestSaes.spec(Architecture.STANDARD, D_IN, D_SAE, 0), 11);
    float[] bEnc = TestSaes.filled(D_SAE, -1f);
    bEnc[1] = 3f;
    bEnc[7] = 1f;
    bEnc[5] = 1f;
    bEnc[6] = 1f;
    bEnc[10] = 0.5f;
    SaeCheckpoint sae = TestSaes.withTensor(base, "b_enc", bEnc);
    float[][] x = {sae.tensor("b_dec").toFloatArray()};

    AnalyzeOutputs out = analyze(sae, ExportOptions.defaults().withMaxActive(2), x);

    assertThat(out.indices()[0]).containsExactly(1, 5);
    assertThat(out.values()[0]).containsExactly(3f, 1f);
    assertThat(out.l0()[0]).isEqualTo(5);
    assertThat(out.dropped()[0]).isEqualTo(3);
    // sae_out decodes the kept slots only: b_dec + 3·W_dec[1] + 1·W_dec[5].
    out.assertMatches(new SaeLensReference(sae).analyze(x, 2), x, "truncated", 0);
  }

  @ParameterizedTest
  @EnumSource(
      value = ActivationNormalization.class,
      names = {"NONE", "CONSTANT_NORM_RESCALE", "LAYER_NORM"})
  void zeroActivationRowGivesFiniteOutputsAndDefinedMetrics(ActivationNormalization norm)
      throws Exception {
    TestSaes.Spec spec =
        TestSaes.spec(Architecture.JUMPRELU, D_IN, D_SAE, 0).withNormalization(norm);
    SaeCheckpoint sae = TestSaes.random(spec, 5);
    float[][] x = {new float[D_IN], TestSaes.activations(1, D_IN, 9)[0]};

    AnalyzeOutputs out = analyze(sae, ExportOptions.defaults(), x);

    for (float v : out.saeOut()[0]) {
      assertThat(v).isFinite();
    }
    assertThat(out.cosine()[0]).isZero();
    switch (norm) {
      // x = 0 reconstructs as decode(encode(0)) != 0: the error relative to nothing is infinite.
      case NONE -> assertThat(out.relativeError()[0]).isEqualTo(Float.POSITIVE_INFINITY);
      // A zero row is rescaled as if its norm were 1e-30 and decodes to (almost) exactly zero.
      case CONSTANT_NORM_RESCALE -> {
        for (float v : out.saeOut()[0]) {
          assertThat(Math.abs(v)).isLessThan(1e-20f);
        }
        assertThat(out.relativeError()[0]).isZero();
      }
      // A constant row has std 0: layer_norm undoes itself to the row's mean, exactly 0 here.
      case LAYER_NORM -> {
        assertThat(out.saeOut()[0]).containsOnly(0f);
        assertThat(out.sse()[0]).isZero();
        assertThat(out.relativeError()[0]).isZero();
      }
      default -> throw new AssertionError(norm);
    }
    // The ordinary row next to it is unaffected.
    float[][] ordinary = {x[1]};
    SaeLensReference.Row ref = new SaeLensReference(sae).analyze(x[1], D_SAE);
    new AnalyzeOutputs(
            new long[][] {out.indices()[1]},
            new float[][] {out.values()[1]},
            new float[][] {out.saeOut()[1]},
            new float[] {out.sse()[1]},
            new float[] {out.relativeError()[1]},
            new float[] {out.cosine()[1]},
            new long[] {out.l0()[1]},
            new long[] {out.dropped()[1]})
        .assertMatches(List.of(ref), ordinary, norm.cfgName());
  }

  @Test
  void exactReconstructionOfAZeroRowHasZeroRelativeError() throws Exception {
    SaeCheckpoint base = TestSaes.random(TestSaes.spec(Architecture.STANDARD, D_IN, D_SAE, 0), 3);
    SaeCheckpoint sae =
        TestSaes.withTensor(
            TestSaes.withTensor(base, "W_dec", new float[D_SAE * D_IN]), "b_dec", new float[D_IN]);

    AnalyzeOutputs out = analyze(sae, ExportOptions.defaults(), new float[][] {new float[D_IN]});

    assertThat(out.saeOut()[0]).containsOnly(0f);
    assertThat(out.sse()[0]).isZero();
    assertThat(out.relativeError()[0]).isZero();
    assertThat(out.cosine()[0]).isZero();
  }

  private static SaeCheckpoint topk(float[] bEnc, int k) {
    TestSaes.Spec spec =
        new TestSaes.Spec(
            Architecture.TOPK, ActivationNormalization.NONE, true, false, D_IN, D_SAE, k);
    return TestSaes.withTensor(TestSaes.random(spec, 1), "b_enc", bEnc);
  }

  private static AnalyzeOutputs analyzeAtZero(SaeCheckpoint sae, ExportOptions options)
      throws Exception {
    return analyze(sae, options, new float[][] {sae.tensor("b_dec").toFloatArray()});
  }

  private static AnalyzeOutputs analyze(SaeCheckpoint sae, ExportOptions options, float[][] x)
      throws Exception {
    try (OrtModel m = OrtModel.load(SaeOnnxExporter.exportToBytes(sae, options))) {
      return AnalyzeOutputs.of(m.run(x));
    }
  }
}
