package io.saestream.trainer.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class TrainingComponentsTest {

  @Test
  void scheduleWarmsUpLinearlyThenDecays() {
    LearningRateSchedule cosine =
        new LearningRateSchedule(1e-3, 10, LearningRateSchedule.Decay.COSINE, 100, 0.1);
    assertThat(cosine.at(1)).isCloseTo(1e-4, within(1e-12));
    assertThat(cosine.at(10)).isCloseTo(1e-3, within(1e-12));
    assertThat(cosine.at(60)).isCloseTo(1e-3 * (0.1 + 0.9 * 0.5), within(1e-12));
    assertThat(cosine.at(110)).isCloseTo(1e-4, within(1e-12));
    assertThat(cosine.at(10_000)).isCloseTo(1e-4, within(1e-12));
    LearningRateSchedule linear =
        new LearningRateSchedule(1e-3, 0, LearningRateSchedule.Decay.LINEAR, 100, 0.0);
    assertThat(linear.at(50)).isCloseTo(5e-4, within(1e-12));
    assertThat(LearningRateSchedule.constant(2e-4).at(5)).isEqualTo(2e-4);
    assertThatThrownBy(() -> cosine.at(0)).hasMessageContaining("step must be >= 1, was 0");
    assertThatThrownBy(() -> new LearningRateSchedule(-1, 0, LearningRateSchedule.Decay.NONE, 0, 1))
        .hasMessageContaining("lr must be finite and > 0, was -1.0");
    assertThatThrownBy(
            () -> new LearningRateSchedule(1, 0, LearningRateSchedule.Decay.COSINE, 0, 1))
        .hasMessageContaining("decay_steps must be > 0 for COSINE decay, was 0");
  }

  @Test
  void scaleIsSqrtDInOverTheMeanNorm() {
    ActivationScaleEstimator e = new ActivationScaleEstimator(4, 2);
    e.observe(new float[] {3, 0, 0, 0}, 0, 1);
    assertThat(e.isSettled()).isFalse();
    assertThatThrownBy(e::scale).hasMessageContaining("1 of 2 tokens seen");
    e.observe(new float[] {0, 5, 0, 0, 100, 100, 100, 100}, 0, 2); // the third row comes too late
    assertThat(e.scale()).isCloseTo(2.0 / 4.0, within(1e-12));
  }

  @Test
  void latentsDieAfterTheWindowAndReviveWhenTheyFire() {
    DeadLatentTracker t = new DeadLatentTracker(3, 100);
    t.record(new long[] {1, 0, 0}, 60);
    t.record(new long[] {1, 0, 2}, 60);
    assertThat(t.isDead(0)).isFalse();
    assertThat(t.isDead(1)).isTrue();
    assertThat(t.isDead(2)).isFalse();
    assertThat(t.deadFraction()).isCloseTo(1.0 / 3, within(1e-12));
    assertThatThrownBy(() -> t.record(new long[2], 1))
        .hasMessageContaining("fired counts have 2 latents, expected 3");
  }

  @Test
  void fvuIsCentredOnTheWindowMean() {
    EvaluationWindow w = new EvaluationWindow(1, 2);
    // x = 10, 12 (mean 11, centred sum of squares 2); x̂ = 11, 11 gives SSE 2: FVU 1, not 2/244.
    w.add(new float[] {10, 12}, new float[] {11, 11}, 2, 1.5, new long[] {2, 0});
    EvaluationReport r = w.report(0.5);
    assertThat(r.fvu()).isCloseTo(1.0, within(1e-12));
    assertThat(r.explainedVariance()).isCloseTo(0.0, within(1e-12));
    assertThat(r.l0()).isEqualTo(1.5);
    assertThat(r.densityHistogram()).containsExactly(1, 0, 0, 0, 0, 0, 0, 1);
  }

  @Test
  void settingsRejectInconsistentValues() {
    assertThatThrownBy(() -> TrainingSettings.builder(64, 256, 8).batchSize(0).build())
        .hasMessageContaining("batch_size must be > 0, was 0");
    assertThatThrownBy(
            () -> TrainingSettings.builder(64, 256, 8).batchSize(100).bufferTokens(150).build())
        .hasMessageContaining("buffer_tokens must be >= 2 × batch_size = 200, was 150");
    assertThatThrownBy(
            () ->
                TrainingSettings.builder(64, 256, 8)
                    .batchSize(100)
                    .bufferTokens(200)
                    .scaleEstimationTokens(300)
                    .build())
        .hasMessageContaining("scale_estimation_tokens must be in [0, buffer_tokens=200]");
    assertThatThrownBy(() -> TrainingSettings.builder(64, 256, 300).build())
        .hasMessageContaining("k must be in [1, d_sae=256], was 300.0");
    assertThatThrownBy(() -> TrainingSettings.builder(64, 256, 8).evalEvery(1).build())
        .hasMessageContaining("eval_every must be 0 (off) or >= 2");
  }

  @Test
  void aResumedScaleEstimateContinuesOrKeepsItsScale() {
    ActivationScaleEstimator e = new ActivationScaleEstimator(4, 2);
    e.observe(new float[] {3, 0, 0, 0}, 0, 1);
    ActivationScaleEstimator resumed =
        ActivationScaleEstimator.resume(4, 2, e.observed(), e.sumOfNorms(), e.scaleOrNaN());
    assertThat(resumed.isSettled()).isFalse();
    resumed.observe(new float[] {0, 5, 0, 0}, 0, 1);
    assertThat(resumed.scale()).isCloseTo(2.0 / 4.0, within(1e-12));
    ActivationScaleEstimator settled =
        ActivationScaleEstimator.resume(4, 2, 2, 8, resumed.scaleOrNaN());
    assertThat(settled.scale()).isEqualTo(resumed.scale());
    // Fewer estimation tokens configured than already seen: it settles at once.
    assertThat(ActivationScaleEstimator.resume(4, 1, 1, 3, Double.NaN).scale())
        .isCloseTo(2.0 / 3.0, within(1e-12));
    assertThatThrownBy(() -> ActivationScaleEstimator.resume(4, 2, -1, 0, Double.NaN))
        .hasMessageContaining("observed >= 0 and a finite sum of norms >= 0, was -1 and 0.0");
    assertThatThrownBy(() -> ActivationScaleEstimator.resume(4, 2, 1, 1, -2))
        .hasMessageContaining("activation scale must be finite and > 0, was -2.0");
  }

  @Test
  void anEvaluationWindowRestoresItsSumsAndRefusesAnotherShape() {
    EvaluationWindow w = new EvaluationWindow(2, 3);
    w.add(new float[] {1, 2, 3, 4}, new float[] {1, 2, 3, 3}, 2, 1.5, new long[] {1, 0, 2});
    EvaluationWindow copy = new EvaluationWindow(2, 3);
    copy.restore(w.sums());
    assertThat(copy.report(0.25)).isEqualTo(w.report(0.25));
    assertThat(copy.logDensities()).isEqualTo(w.logDensities());
    assertThatThrownBy(() -> new EvaluationWindow(2, 4).restore(w.sums()))
        .hasMessageContaining("saved evaluation window is for d_in=2, d_sae=3");
    assertThatThrownBy(
            () -> new EvaluationWindow.Sums(new double[2], new double[3], new long[1], 0, 0, 0))
        .hasMessageContaining("sum_x and sum_sq_x must have one length, were 2, 3");
  }
}
