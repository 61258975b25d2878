package io.saestream.sae.training;

import static io.saestream.sae.training.TrainingStepFixtureParityTest.assertRelative;
import static io.saestream.sae.training.TrainingStepFixtureParityTest.relativeMaxError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import ai.onnxruntime.OrtException;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Boundary cases of the step: no dead latent, a batch of one token, a batch where nothing fires, a
 * larger problem on which all formulations must agree, and inputs of the wrong shape. Float32
 * tolerances: 1e-5 relative (float32 rounding over ≤ 512-term sums, as in the fixture parity).
 */
class TrainingStepEdgeCaseTest {

  @ParameterizedTest
  @EnumSource(Formulation.class)
  void withoutDeadLatentsAuxIsZeroAndContributesNoGradient(Formulation f) throws Exception {
    for (SparsityRule rule : SparsityRule.values()) {
      TrainingStepSpec spec = spec(rule, 16, 64, 4);
      SaeProblem someDead = SaeProblem.random(spec, 20, 0.3, 5);
      SaeProblem noneDead = someDead.withDead(new boolean[spec.dSae()]);
      StepSession.Outputs none = run(spec, f, noneDead);
      // Same latents dead but a zero coefficient: the aux term multiplies its gradient by 0.
      StepSession.Outputs zeroCoefficient = run(spec.withAuxLossCoefficient(0), f, someDead);
      assertThat(none.scalar(TrainingStepGraph.AUX_LOSS)).isZero();
      assertThat(zeroCoefficient.scalar(TrainingStepGraph.AUX_LOSS)).isZero();
      assertThat(run(spec, f, someDead).scalar(TrainingStepGraph.AUX_LOSS)).isPositive();
      assertGradientsAgree(none, zeroCoefficient, 1e-6, rule);
    }
  }

  @ParameterizedTest
  @EnumSource(SparsityRule.class)
  void singleTokenBatchMatchesTheReference(SparsityRule rule) throws Exception {
    TrainingStepSpec spec = spec(rule, 16, 64, 4);
    SaeProblem p = SaeProblem.random(spec, 1, 0.5, 8);
    for (Formulation f : Formulation.values()) {
      StepSession.Outputs out = run(spec, f, p);
      ReferenceForward.Losses ref = ReferenceForward.losses(p);
      assertRelative(out.scalar(TrainingStepGraph.MSE_LOSS), ref.mse(), 1e-5);
      assertRelative(out.scalar(TrainingStepGraph.AUX_LOSS), ref.aux(), 1e-5);
      assertThat(out.scalar(TrainingStepGraph.L0)).isLessThanOrEqualTo(4);
    }
  }

  @ParameterizedTest
  @EnumSource(SparsityRule.class)
  void batchWhereNothingFiresReportsNoFiringAndNoMinimum(SparsityRule rule) throws Exception {
    TrainingStepSpec spec = spec(rule, 16, 64, 4);
    double[] veryNegative = new double[spec.dSae()];
    Arrays.fill(veryNegative, -1000);
    SaeProblem p = SaeProblem.random(spec, 10, 0.2, 9).with(SaeParameter.B_ENC, veryNegative);
    for (Formulation f : Formulation.values()) {
      StepSession.Outputs out = run(spec, f, p);
      assertThat(out.scalar(TrainingStepGraph.L0)).isZero();
      assertThat(out.scalar(TrainingStepGraph.MIN_POSITIVE_ACT))
          .isEqualTo(Double.POSITIVE_INFINITY);
      assertThat(out.longs(TrainingStepGraph.FIRED_COUNTS)).containsOnly(0L);
      double[] gradBEnc = out.get(SaeParameter.B_ENC.gradient());
      for (int j = 0; j < spec.dSae(); j++) {
        if (p.dead()[j]) {
          continue;
        }
        assertThat(gradBEnc[j]).as("live latent %d has no path to the loss", j).isZero();
      }
      assertThat(Arrays.stream(gradBEnc).anyMatch(g -> g != 0))
          .as("aux reaches dead latents")
          .isTrue();
      // Nothing fired, so x̂ = b_dec and only the aux term moves the encoder.
      double[] bDec = p.parameter(SaeParameter.B_DEC);
      double[] sae = out.get(TrainingStepGraph.SAE_OUT);
      for (int i = 0; i < sae.length; i++) {
        assertThat(sae[i]).isEqualTo((float) bDec[i % spec.dIn()], offset(1e-6));
      }
    }
    BatchTopKThreshold t = new BatchTopKThreshold(0.3, 0.01);
    assertThat(t.update(Double.POSITIVE_INFINITY)).isEqualTo(t);
  }

  @ParameterizedTest(name = "dominant token: {0}")
  @ValueSource(booleans = {false, true})
  void batchTopKSelectionMatchesTheReferenceWithAndWithoutSaturatedTokens(boolean dominantToken)
      throws Exception {
    TrainingStepSpec spec = spec(SparsityRule.BATCH_TOPK, 16, 64, 4);
    long cap = StepAssembly.candidatesPerToken(spec);
    SaeProblem p = SaeProblem.random(spec, 32, 0.2, 12);
    if (dominantToken) {
      // Token 0 at 50× the scale outranks every other token: all its positive activations are
      // kept, more than its candidate quota.
      double[] x = p.x().clone();
      for (int d = 0; d < spec.dIn(); d++) {
        x[d] *= 50;
      }
      p = p.withX(x);
    }
    ReferenceForward.Losses ref = ReferenceForward.losses(p);
    for (Formulation f : Formulation.values()) {
      StepSession.Outputs out;
      try (StepSession s =
          new StepSession(
              TrainingStepGraph.builder(spec)
                  .variant(StepVariant.DEBUG)
                  .precision(Precision.FLOAT64)
                  .formulation(f)
                  .build())) {
        out = s.run(p);
      }
      assertRelative(out.scalar(TrainingStepGraph.MSE_LOSS), ref.mse(), 1e-12);
      assertRelative(out.scalar(TrainingStepGraph.AUX_LOSS), ref.aux(), 1e-12);
      double[] acts = out.get(TrainingStepGraph.FEATURE_ACTS);
      long maxPerToken = 0;
      long total = 0;
      for (int b = 0; b < p.batch(); b++) {
        long n = 0;
        for (int j = 0; j < spec.dSae(); j++) {
          n += acts[b * spec.dSae() + j] > 0 ? 1 : 0;
        }
        maxPerToken = Math.max(maxPerToken, n);
        total += n;
      }
      assertThat(total).isEqualTo(spec.keptPerBatch(p.batch()));
      if (dominantToken) {
        assertThat(maxPerToken)
            .as("only the full TopK keeps > %d per token", cap)
            .isGreaterThan(cap);
      } else {
        assertThat(maxPerToken).as("no token saturated its %d candidates", cap).isLessThan(cap);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(SparsityRule.class)
  void formulationsAgreeOnALargerProblem(SparsityRule rule) throws Exception {
    TrainingStepSpec spec = spec(rule, 64, 512, 16);
    SaeProblem p = SaeProblem.random(spec, 64, 0.3, 10);
    StepSession.Outputs sparse = run(spec, Formulation.SPARSE, p);
    ReferenceForward.Losses ref = ReferenceForward.losses(p);
    assertRelative(sparse.scalar(TrainingStepGraph.MSE_LOSS), ref.mse(), 1e-5);
    assertRelative(sparse.scalar(TrainingStepGraph.AUX_LOSS), ref.aux(), 1e-5);
    for (Formulation f :
        new Formulation[] {Formulation.SPARSE_GEMM_ENCODER_GRADIENT, Formulation.DENSE}) {
      StepSession.Outputs other = run(spec, f, p);
      assertRelative(
          other.scalar(TrainingStepGraph.LOSS), sparse.scalar(TrainingStepGraph.LOSS), 1e-6);
      assertThat(other.longs(TrainingStepGraph.FIRED_COUNTS))
          .containsExactly(sparse.longs(TrainingStepGraph.FIRED_COUNTS));
      assertGradientsAgree(other, sparse, 1e-5, f);
    }
  }

  @ParameterizedTest
  @EnumSource(Formulation.class)
  void inputsOfTheWrongShapeAreRejectedByName(Formulation f) throws Exception {
    TrainingStepSpec spec = spec(SparsityRule.TOPK, 16, 64, 4);
    TrainingStepSpec narrower = spec(SparsityRule.TOPK, 12, 64, 4);
    TrainingStepSpec fewerLatents = spec(SparsityRule.TOPK, 16, 48, 4);
    try (StepSession s = new StepSession(gradientsStep(spec, f))) {
      assertThatThrownBy(() -> s.run(SaeProblem.random(narrower, 4, 0.1, 1)))
          .isInstanceOf(OrtException.class)
          .hasMessageContaining("input: x ");
      assertThatThrownBy(() -> s.run(SaeProblem.random(fewerLatents, 4, 0.1, 1)))
          .isInstanceOf(OrtException.class)
          .hasMessageContaining("input: W_enc ");
    }
  }

  private static TrainingStepSpec spec(SparsityRule rule, int dIn, int dSae, int k) {
    return rule == SparsityRule.TOPK
        ? TrainingStepSpec.topK(dIn, dSae, k)
        : TrainingStepSpec.batchTopK(dIn, dSae, k);
  }

  private static StepSession.Outputs run(TrainingStepSpec spec, Formulation f, SaeProblem p)
      throws OrtException {
    try (StepSession s = new StepSession(gradientsStep(spec, f))) {
      return s.run(p);
    }
  }

  private static TrainingStepModel gradientsStep(TrainingStepSpec spec, Formulation f) {
    return TrainingStepGraph.builder(spec).variant(StepVariant.GRADIENTS).formulation(f).build();
  }

  /** Every gradient of {@code actual} within {@code tolerance} (relative) of {@code expected}'s. */
  private static void assertGradientsAgree(
      StepSession.Outputs actual, StepSession.Outputs expected, double tolerance, Object what) {
    for (SaeParameter p : SaeParameter.values()) {
      assertThat(relativeMaxError(actual.get(p.gradient()), expected.get(p.gradient())))
          .as("%s %s", what, p)
          .isLessThanOrEqualTo(tolerance);
    }
  }
}
