package io.saestream.sae.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import io.saestream.sae.checkpoint.ActivationNormalization;
import io.saestream.sae.checkpoint.Architecture;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The analyze graph against the plain-loops reference, for every architecture × normalisation ×
 * apply_b_dec_to_input on small seeded random SAEs.
 */
class AnalyzeGraphParityTest {

  private static final int D_IN = 24;
  private static final int D_SAE = 96;
  private static final int K = 8;
  private static final int N = 40;

  static Stream<Arguments> everyVariant() {
    List<TestSaes.Spec> bases =
        List.of(
            TestSaes.spec(Architecture.STANDARD, D_IN, D_SAE, K),
            TestSaes.spec(Architecture.JUMPRELU, D_IN, D_SAE, K),
            TestSaes.spec(Architecture.GATED, D_IN, D_SAE, K),
            TestSaes.spec(Architecture.TOPK, D_IN, D_SAE, K),
            new TestSaes.Spec(
                Architecture.TOPK, ActivationNormalization.NONE, true, false, D_IN, D_SAE, K));
    List<Arguments> args = new ArrayList<>();
    long seed = 1000;
    for (TestSaes.Spec base : bases) {
      for (ActivationNormalization norm :
          List.of(
              ActivationNormalization.NONE,
              ActivationNormalization.CONSTANT_NORM_RESCALE,
              ActivationNormalization.LAYER_NORM)) {
        for (boolean apply : List.of(true, false)) {
          args.add(Arguments.of(base.withNormalization(norm).withApplyBDec(apply), seed++));
        }
      }
    }
    return args.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("everyVariant")
  void analyzeMatchesSaeLensReference(TestSaes.Spec spec, long seed) throws Exception {
    SaeCheckpoint sae = TestSaes.random(spec, seed);
    // K = d_sae for non-topk SAEs, so nothing is dropped and the comparison is exact.
    ExportOptions options =
        spec.architecture() == Architecture.TOPK
            ? ExportOptions.defaults()
            : ExportOptions.defaults().withMaxActive(D_SAE);
    byte[] model = SaeOnnxExporter.exportToBytes(sae, options);
    float[][] x = TestSaes.activations(N, D_IN, seed + 7);

    AnalyzeOutputs out;
    try (OrtModel m = OrtModel.load(model)) {
      out = AnalyzeOutputs.of(m.run(x));
    }

    int slots = spec.architecture() == Architecture.TOPK ? K : D_SAE;
    assertThat(out.indices()[0]).hasSize(slots);
    out.assertMatches(new SaeLensReference(sae).analyze(x, slots), x, spec.toString());
    assertThat(out.dropped()).containsOnly(0L);
  }
}
