package io.saestream.sae.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.sae.checkpoint.Fixtures;
import org.junit.jupiter.api.Test;

/** The BatchTopK threshold EMA, fed by the graph's {@code min_positive_act}, against sae-lens. */
class BatchTopKThresholdTest {

  @Test
  void graphMinimumAndEmaReproduceSaeLensThresholdUpdate() throws Exception {
    TrainingStepSpec spec = TrainStepFixtures.spec(TrainStepFixtures.BATCH_TOPK);
    Fixtures.Expected e = TrainStepFixtures.expected(TrainStepFixtures.BATCH_TOPK);
    double before = e.scalar("topk_threshold_before");
    double minPositive;
    try (StepSession s =
        new StepSession(TrainingStepGraph.builder(spec).variant(StepVariant.GRADIENTS).build())) {
      minPositive =
          s.run(SaeProblem.fromFixture(spec, e)).scalar(TrainingStepGraph.MIN_POSITIVE_ACT);
    }
    BatchTopKThreshold after =
        new BatchTopKThreshold(before, BatchTopKThreshold.SAE_LENS_LEARNING_RATE)
            .update(minPositive);
    // The fixture stores the float64 buffer rounded to float32 (relative 6e-8); our minimum is a
    // float32 activation equal to sae-lens's within 1e-6 relative.
    assertThat(Math.abs(after.value() - e.scalar("topk_threshold_after")))
        .isLessThanOrEqualTo(1e-6 * e.scalar("topk_threshold_after"));
    assertThat(after.learningRate()).isEqualTo(0.01);
  }

  @Test
  void updateIsTheExponentialMovingAverage() {
    BatchTopKThreshold t = BatchTopKThreshold.initial();
    assertThat(t.value()).isZero();
    BatchTopKThreshold once = t.update(2.0);
    assertThat(once.value()).isEqualTo(0.02);
    assertThat(once.update(2.0).value()).isEqualTo(0.99 * 0.02 + 0.01 * 2.0);
  }

  @Test
  void batchWithoutPositiveActivationLeavesTheThresholdUnchanged() {
    BatchTopKThreshold t = new BatchTopKThreshold(0.5, 0.01);
    assertThat(t.update(Double.POSITIVE_INFINITY)).isSameAs(t);
  }

  @Test
  void rejectsImpossibleMinimaAndInvalidState() {
    BatchTopKThreshold t = BatchTopKThreshold.initial();
    for (double bad : new double[] {0, -1, Double.NaN, Double.NEGATIVE_INFINITY}) {
      assertThatThrownBy(() -> t.update(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("min positive activation must be > 0 or +Infinity, was");
    }
    assertThatThrownBy(() -> new BatchTopKThreshold(-0.1, 0.01))
        .hasMessage("threshold must be finite and >= 0, was -0.1");
    assertThatThrownBy(() -> new BatchTopKThreshold(Double.NaN, 0.01))
        .hasMessage("threshold must be finite and >= 0, was NaN");
    assertThatThrownBy(() -> new BatchTopKThreshold(0, 0))
        .hasMessage("threshold learning rate must be in (0, 1], was 0.0");
    assertThatThrownBy(() -> new BatchTopKThreshold(0, 1.5))
        .hasMessage("threshold learning rate must be in (0, 1], was 1.5");
  }
}
