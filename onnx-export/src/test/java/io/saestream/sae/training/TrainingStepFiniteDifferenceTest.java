package io.saestream.sae.training;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checks the hand-derived backward of the float64 graph ({@link Precision#FLOAT64}) against central
 * finite differences of the loss. sae-lens detaches the aux-k residual {@code x − x̂}, so the
 * gradient it trains with is the derivative of the loss at a fixed residual; the differences are
 * therefore taken on {@link ReferenceForward} (an independent float64 Java forward) with the
 * residual held at its unperturbed value, after checking that this reference reproduces the graph's
 * losses. Problems are random with every discrete choice at least {@value #MARGIN} (relative) from
 * flipping, so the ±{@value #EPS} perturbations never change a selection and the loss is smooth
 * where it is differentiated.
 *
 * <p>Tolerance: |fd − analytic| ≤ 1e-6·max|analytic| of that parameter. Central differences err by
 * O(ε²·L''') ≈ 1e-12 and by rounding O(1e-16·L/ε) ≈ 1e-9 here (L ≈ 10–100, gradients O(1)), so 1e-6
 * relative leaves three orders of margin; a wrong term (a missing n factor, a dropped aux path) is
 * off by O(1) relative.
 */
class TrainingStepFiniteDifferenceTest {

  static final double MARGIN = 1e-3;
  static final double EPS = 1e-6;
  static final double TOLERANCE = 1e-6;

  /**
   * How the dead latents are set up: none, few (aux scale < 1), many (k_aux capped at d_in/2), all.
   */
  enum Dead {
    NONE,
    FEW,
    MANY,
    ALL
  }

  static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    for (SparsityRule rule : SparsityRule.values()) {
      for (Formulation f : Formulation.values()) {
        for (Dead d : Dead.values()) {
          out.add(Arguments.of(rule, f, d));
        }
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1} dead={2}")
  @MethodSource("cases")
  void analyticGradientsMatchCentralDifferences(
      SparsityRule rule, Formulation formulation, Dead dead) throws Exception {
    TrainingStepSpec spec = spec(rule);
    SaeProblem problem = problemWithMargins(spec, dead);
    TrainingStepModel model =
        TrainingStepGraph.builder(spec)
            .variant(StepVariant.GRADIENTS)
            .precision(Precision.FLOAT64)
            .formulation(formulation)
            .build();
    try (StepSession s = new StepSession(model)) {
      StepSession.Outputs base = s.run(problem);
      ReferenceForward.Losses reference = ReferenceForward.losses(problem);
      TrainingStepFixtureParityTest.assertRelative(
          base.scalar(TrainingStepGraph.MSE_LOSS), reference.mse(), 1e-12);
      TrainingStepFixtureParityTest.assertRelative(
          base.scalar(TrainingStepGraph.AUX_LOSS), reference.aux(), 1e-12);
      if (dead == Dead.NONE) {
        assertThat(base.scalar(TrainingStepGraph.AUX_LOSS)).isZero();
      } else {
        assertThat(base.scalar(TrainingStepGraph.AUX_LOSS)).isPositive();
      }
      Random r = new Random(11);
      for (SaeParameter p : SaeParameter.values()) {
        double[] analytic = base.get(p.gradient());
        double scale = maxAbs(analytic);
        assertThat(scale).as("%s gradient is all zero", p).isPositive();
        for (int i : coordinates(analytic, r)) {
          double fd = centralDifference(problem, reference.residual(), p, i);
          assertThat(Math.abs(fd - analytic[i]))
              .as("%s[%d]: fd %s vs analytic %s", p, i, fd, analytic[i])
              .isLessThanOrEqualTo(TOLERANCE * scale);
        }
      }
    }
  }

  @Test
  void float32GradientsAgreeWithFloat64() throws Exception {
    for (SparsityRule rule : SparsityRule.values()) {
      TrainingStepSpec spec = spec(rule);
      SaeProblem problem = problemWithMargins(spec, Dead.MANY);
      StepSession.Outputs f64;
      StepSession.Outputs f32;
      TrainingStepGraph.Builder b = TrainingStepGraph.builder(spec).variant(StepVariant.GRADIENTS);
      try (StepSession s = new StepSession(b.precision(Precision.FLOAT64).build())) {
        f64 = s.run(problem);
      }
      try (StepSession s = new StepSession(b.precision(Precision.FLOAT32).build())) {
        f32 = s.run(problem);
      }
      // float32 carries ~7 digits; sums over ≤ 40 terms lose at most one more.
      for (SaeParameter p : SaeParameter.values()) {
        assertThat(
                TrainingStepFixtureParityTest.relativeMaxError(
                    f32.get(p.gradient()), f64.get(p.gradient())))
            .as("%s %s", rule, p)
            .isLessThanOrEqualTo(1e-5);
      }
      TrainingStepFixtureParityTest.assertRelative(
          f32.scalar(TrainingStepGraph.LOSS), f64.scalar(TrainingStepGraph.LOSS), 1e-6);
    }
  }

  static TrainingStepSpec spec(SparsityRule rule) {
    return rule == SparsityRule.TOPK
        ? TrainingStepSpec.topK(12, 40, 4)
        : TrainingStepSpec.batchTopK(12, 40, 4.5);
  }

  /** The first seeded random problem whose choices are all at least {@link #MARGIN} apart. */
  static SaeProblem problemWithMargins(TrainingStepSpec spec, Dead dead) {
    for (long seed = 1; seed < 10_000; seed++) {
      SaeProblem p = SaeProblem.random(spec, 6, 0, seed);
      p = p.withDead(deadMask(spec.dSae(), dead, seed));
      if (SelectionMargins.smallest(p) >= MARGIN) {
        return p;
      }
    }
    throw new IllegalStateException("no problem with margins >= " + MARGIN);
  }

  private static boolean[] deadMask(int dSae, Dead dead, long seed) {
    boolean[] mask = new boolean[dSae];
    Random r = new Random(seed * 31 + 7);
    int count =
        switch (dead) {
          case NONE -> 0;
          case FEW -> 3;
          case MANY -> 20;
          case ALL -> dSae;
        };
    List<Integer> order = new ArrayList<>(IntStream.range(0, dSae).boxed().toList());
    java.util.Collections.shuffle(order, r);
    for (int i = 0; i < count; i++) {
      mask[order.get(i)] = true;
    }
    return mask;
  }

  /** 8 random coordinates and the 8 with the largest analytic gradient. */
  private static Set<Integer> coordinates(double[] analytic, Random r) {
    Set<Integer> out = new LinkedHashSet<>();
    IntStream.range(0, analytic.length)
        .boxed()
        .sorted(Comparator.comparingDouble((Integer i) -> -Math.abs(analytic[i])))
        .limit(8)
        .forEach(out::add);
    for (int n = 0; n < 8; n++) {
      out.add(r.nextInt(analytic.length));
    }
    return out;
  }

  private static double centralDifference(
      SaeProblem problem, double[] residual, SaeParameter p, int i) {
    double[] plus = problem.parameter(p).clone();
    double[] minus = problem.parameter(p).clone();
    plus[i] += EPS;
    minus[i] -= EPS;
    double lp = ReferenceForward.losses(problem.with(p, plus), residual).total();
    double lm = ReferenceForward.losses(problem.with(p, minus), residual).total();
    return (lp - lm) / (2 * EPS);
  }

  private static double maxAbs(double[] v) {
    double m = 0;
    for (double x : v) {
      m = Math.max(m, Math.abs(x));
    }
    return m;
  }
}
