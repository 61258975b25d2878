package io.saestream.sae.training;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The ADAM graph against a plain-Java float64 transcription of torch's clip_grad_norm_ and Adam
 * (non-fused, as sae-lens's trainer calls them), for one and several steps with a warm-up learning
 * rate, fed with the gradients the GRADIENTS graph computes on the same state.
 *
 * <p>Tolerances: the graph runs in float32, the reference in float64 from the same float32
 * gradients, so moments agree to a few float32 ulps (1e-6 relative) and each parameter to 1e-6·|p|
 * + 1e-5·lr (the update is lr·m/(√v̂+ε), of order lr, carried in float32); a missing bias
 * correction or clip changes the update by 10–1000 % and the moments by far more.
 */
class AdamStepTest {

  static Stream<Arguments> settings() {
    List<Arguments> out = new ArrayList<>();
    for (double beta1 : new double[] {0.0, 0.3, 0.9}) {
      for (double clip : new double[] {1.0, Double.POSITIVE_INFINITY}) {
        out.add(Arguments.of(beta1, clip));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "beta1={0} max_grad_norm={1}")
  @MethodSource("settings")
  void fiveStepsMatchPlainJavaAdam(double beta1, double maxGradNorm) throws Exception {
    TrainingStepSpec spec =
        TrainingStepSpec.topK(16, 64, 4).withAdam(beta1, 0.999, 1e-8).withMaxGradNorm(maxGradNorm);
    runSteps(spec, 5, SaeProblem.random(spec, 24, 0.25, 3));
  }

  @Test
  void oneBatchTopKStepMatchesPlainJavaAdam() throws Exception {
    TrainingStepSpec spec = TrainingStepSpec.batchTopK(16, 64, 4);
    runSteps(spec, 1, SaeProblem.random(spec, 24, 0.25, 4));
  }

  @Test
  void clippingEngagesOnTheseProblems() throws Exception {
    // Otherwise the clipped cases above would not test clipping.
    TrainingStepSpec spec = TrainingStepSpec.topK(16, 64, 4);
    try (StepSession s =
        new StepSession(TrainingStepGraph.builder(spec).variant(StepVariant.GRADIENTS).build())) {
      assertThat(s.run(SaeProblem.random(spec, 24, 0.25, 3)).scalar(TrainingStepGraph.GRAD_NORM))
          .isGreaterThan(10);
    }
  }

  private static void runSteps(TrainingStepSpec spec, int steps, SaeProblem initial)
      throws Exception {
    TrainingStepGraph.Builder builder = TrainingStepGraph.builder(spec);
    try (StepSession grads = new StepSession(builder.variant(StepVariant.GRADIENTS).build());
        StepSession adam = new StepSession(builder.variant(StepVariant.ADAM).build())) {
      SaeProblem state = initial;
      Map<String, double[]> moments = new HashMap<>();
      for (SaeParameter p : SaeParameter.values()) {
        int n = Math.toIntExact(p.elementCount(spec));
        moments.put(p.firstMoment(), new double[n]);
        moments.put(p.secondMoment(), new double[n]);
      }
      for (int t = 1; t <= steps; t++) {
        double lr = 1e-2 * t / steps;
        StepSession.Outputs g = grads.run(state);
        StepSession.Outputs out = adam.run(state, moments, t, lr);
        TrainingStepFixtureParityTest.assertRelative(
            out.scalar(TrainingStepGraph.LOSS), g.scalar(TrainingStepGraph.LOSS), 1e-6);

        double sumSq = 0;
        for (SaeParameter p : SaeParameter.values()) {
          double[] v = g.get(p.gradient());
          double s = 0;
          for (double x : v) {
            s += x * x;
          }
          sumSq += s;
        }
        double norm = Math.sqrt(sumSq);
        TrainingStepFixtureParityTest.assertRelative(
            out.scalar(TrainingStepGraph.GRAD_NORM), norm, 1e-6);
        double clip =
            spec.clipsGradients()
                ? Math.min(spec.maxGradNorm() / (norm + StepAssembly.CLIP_EPSILON), 1.0)
                : 1.0;

        SaeProblem next = state;
        Map<String, double[]> nextMoments = new HashMap<>();
        for (SaeParameter p : SaeParameter.values()) {
          double[] param = state.parameter(p).clone();
          double[] previousM = Objects.requireNonNull(moments.get(p.firstMoment()));
          double[] m = previousM.clone();
          double[] v = Objects.requireNonNull(moments.get(p.secondMoment())).clone();
          double[] grad = g.get(p.gradient());
          javaAdam(spec, t, lr, clip, grad, param, m, v);
          // m' = m + (1−β1)(g − m) cancels when g ≈ m: its float32 error scales with |m| + |g|.
          double[] mScale = new double[m.length];
          for (int i = 0; i < m.length; i++) {
            mScale[i] = Math.abs(m[i]) + Math.abs(previousM[i]) + Math.abs(grad[i] * clip);
          }
          assertClose(out.get(p.nextFirstMoment()), m, mScale, 1e-6, p + " m, step " + t);
          assertClose(out.get(p.nextSecondMoment()), v, abs(v), 1e-6, p + " v, step " + t);
          double[] pScale = abs(param);
          for (int i = 0; i < pScale.length; i++) {
            pScale[i] += 10 * lr;
          }
          assertClose(out.get(p.next()), param, pScale, 1e-6, p + ", step " + t);
          assertThat(maxAbsDiff(param, state.parameter(p)))
              .as("%s moved at step %d", p, t)
              .isGreaterThan(0.1 * lr);
          next = next.with(p, param);
          nextMoments.put(p.firstMoment(), m);
          nextMoments.put(p.secondMoment(), v);
        }
        state = next;
        moments = nextMoments;
      }
    }
  }

  /** torch.optim.Adam's single-tensor step (amsgrad off, no weight decay), in float64. */
  static void javaAdam(
      TrainingStepSpec spec,
      long step,
      double lr,
      double clip,
      double[] grad,
      double[] param,
      double[] m,
      double[] v) {
    double beta1 = spec.adamBeta1();
    double beta2 = spec.adamBeta2();
    double bc1 = 1 - Math.pow(beta1, (double) step);
    double bc2 = 1 - Math.pow(beta2, (double) step);
    double stepSize = lr / bc1;
    double bc2Sqrt = Math.sqrt(bc2);
    for (int i = 0; i < param.length; i++) {
      double g = grad[i] * clip;
      m[i] = m[i] + (1 - beta1) * (g - m[i]);
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      double denom = Math.sqrt(v[i]) / bc2Sqrt + spec.adamEpsilon();
      param[i] -= stepSize * m[i] / denom;
    }
  }

  /** |actual − expected| ≤ rel·scale, element-wise. */
  private static void assertClose(
      double[] actual, double[] expected, double[] scale, double rel, String what) {
    assertThat(actual).hasSameSizeAs(expected);
    for (int i = 0; i < actual.length; i++) {
      assertThat(Math.abs(actual[i] - expected[i]))
          .as("%s [%d]: %s vs %s", what, i, actual[i], expected[i])
          .isLessThanOrEqualTo(rel * scale[i]);
    }
  }

  private static double[] abs(double[] v) {
    double[] a = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      a[i] = Math.abs(v[i]);
    }
    return a;
  }

  private static double maxAbsDiff(double[] a, double[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }
}
