package io.saestream.trainer.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.sae.training.SparsityRule;
import io.saestream.synthetic.GroundTruthConfig;
import io.saestream.synthetic.GroundTruthModel;
import io.saestream.trainer.training.EvaluationWindow;
import io.saestream.trainer.training.LearningRateSchedule;
import io.saestream.trainer.training.SaeTrainer;
import io.saestream.trainer.training.SyntheticTraining;
import io.saestream.trainer.training.TrainerSnapshot;
import io.saestream.trainer.training.TrainerState;
import io.saestream.trainer.training.TrainingSettings;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Save, load and resume through a real {@link StateStore}: the state read back equals the one saved
 * bit for bit, and a trainer resumed from it takes exactly the steps of the uninterrupted trainer
 * (same parameters, moments, mixing-buffer draws, dead-latent counters, scale, threshold and
 * evaluation), so no tolerance is needed.
 */
class TrainerResumeTest {

  private static final int D_IN = 32;
  private static final String SAE = "sae";
  private static final TopicPartition TP = new TopicPartition("acts", 0);

  @TempDir Path dir;

  private static GroundTruthModel model() {
    return new GroundTruthModel(GroundTruthConfig.defaults(D_IN, 96, 5L));
  }

  private static TrainingSettings settings(SparsityRule rule, long scaleTokens) {
    return TrainingSettings.builder(D_IN, 128, 6)
        .rule(rule)
        .batchSize(48)
        .bufferTokens(240)
        // A warm-up longer than the run: the learning rate differs at every step, so a resumed
        // trainer that lost its place in the schedule would diverge at once.
        .schedule(new LearningRateSchedule(3e-3, 1000, LearningRateSchedule.Decay.NONE, 0, 1))
        .scaleEstimationTokens(scaleTokens)
        // Short enough that latents die during the run and the aux-k loss is active.
        .deadLatentWindow(300)
        .evalEvery(4)
        .intraOpThreads(1)
        .seed(9)
        .build();
  }

  /** Offers {@code tokens} tokens in records of 37 (not a multiple of the batch). */
  private static void feed(SaeTrainer trainer, long seed, int tokens) {
    SyntheticTraining.feed(trainer, model(), tokens, 37, seed);
  }

  private TrainerState roundTrip(TrainingSettings settings, TrainerState state) {
    StateStore store = StateStore.open(dir, 2);
    store.save(
        new DurableState(
            Instant.parse("2026-01-01T00:00:00Z"),
            Map.of(TP, 17L),
            Map.of(SAE, new DurableState.SaeState(state, 4))));
    StateStore.Loaded loaded = store.loadNewest(Map.of(SAE, settings)).orElseThrow();
    assertThat(loaded.state().positions()).containsExactly(Map.entry(TP, 17L));
    DurableState.SaeState sae =
        Objects.requireNonNull(loaded.state().saes().get(SAE), "the SAE's state");
    assertThat(sae.lastVersion()).isEqualTo(4);
    return sae.state();
  }

  @ParameterizedTest
  @EnumSource(SparsityRule.class)
  void aResumedTrainerTakesTheSameStepsAsAnUninterruptedOne(SparsityRule rule) {
    TrainingSettings settings = settings(rule, 200);
    try (SaeTrainer uninterrupted = new SaeTrainer("a", settings);
        SaeTrainer resumed = new SaeTrainer("b", settings)) {
      feed(uninterrupted, 1, 1400);
      TrainerState saved = uninterrupted.state();
      assertThat(saved.snapshot().step()).isPositive();
      assertThat(saved.bufferedTokens()).isPositive();
      assertThat(saved.evaluationWindow().tokens()).isPositive();
      assertThat(uninterrupted.deadFraction()).isPositive();

      TrainerState loaded = roundTrip(settings, saved);
      assertIdentical(loaded, saved);
      resumed.resume(loaded);
      assertIdentical(resumed.state(), saved);

      feed(uninterrupted, 2, 1100);
      feed(resumed, 2, 1100);
      assertThat(uninterrupted.step()).isGreaterThan(saved.snapshot().step());
      assertIdentical(resumed.state(), uninterrupted.state());
      assertThat(resumed.evaluation()).isEqualTo(uninterrupted.evaluation());
      assertThat(resumed.lastStep()).isEqualTo(uninterrupted.lastStep());
    }
  }

  @Test
  void aStateSavedWhileTheScaleIsStillBeingEstimatedResumesTheEstimate() {
    TrainingSettings settings = settings(SparsityRule.TOPK, 240);
    try (SaeTrainer uninterrupted = new SaeTrainer("a", settings);
        SaeTrainer resumed = new SaeTrainer("b", settings)) {
      feed(uninterrupted, 3, 100);
      TrainerState saved = uninterrupted.state();
      assertThat(saved.scaleObserved()).isEqualTo(100);
      assertThat(saved.snapshot().activationScale()).isNaN();
      resumed.resume(roundTrip(settings, saved));
      feed(uninterrupted, 4, 900);
      feed(resumed, 4, 900);
      assertThat(uninterrupted.activationScale()).isPositive();
      assertIdentical(resumed.state(), uninterrupted.state());
    }
  }

  @Test
  void aFreshTrainerRoundTripsWithAnEmptyBufferAndNoEvaluation() {
    TrainingSettings settings = settings(SparsityRule.TOPK, 0);
    try (SaeTrainer fresh = new SaeTrainer("a", settings);
        SaeTrainer resumed = new SaeTrainer("b", settings)) {
      TrainerState saved = fresh.state();
      assertThat(saved.bufferedTokens()).isZero();
      assertThat(saved.lastEvaluation()).isNull();
      resumed.resume(roundTrip(settings, saved));
      assertIdentical(resumed.state(), saved);
    }
  }

  @Test
  void aStateThatCannotBeContinuedIsRefusedWithTheReason() {
    TrainingSettings scaling = settings(SparsityRule.TOPK, 200);
    TrainingSettings plain = settings(SparsityRule.TOPK, 0);
    TrainingSettings smallBuffer = plain.toBuilder().bufferTokens(96).build();
    TrainingSettings wider = TrainingSettings.builder(D_IN, 256, 6).intraOpThreads(1).build();
    try (SaeTrainer scaled = new SaeTrainer("s", scaling);
        SaeTrainer unscaled = new SaeTrainer("u", plain);
        SaeTrainer small = new SaeTrainer("b", smallBuffer);
        SaeTrainer other = new SaeTrainer("w", wider)) {
      feed(scaled, 5, 500);
      feed(unscaled, 5, 500);
      TrainerState fromScaled = scaled.state();
      TrainerState fromUnscaled = unscaled.state();
      assertThat(fromUnscaled.bufferedTokens()).isGreaterThan(96);
      assertThatThrownBy(() -> unscaled.resume(fromScaled))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("trained with activation scaling, the settings say without");
      assertThatThrownBy(() -> scaled.resume(fromUnscaled))
          .hasMessageContaining("trained without activation scaling, the settings say with");
      assertThatThrownBy(() -> small.resume(fromUnscaled))
          .hasMessageContaining("more than buffer-tokens=96");
      assertThatThrownBy(() -> other.resume(fromUnscaled))
          .hasMessageContaining("saved state is a TOPK SAE d_in=32 d_sae=128")
          .hasMessageContaining("this trainer trains a TOPK SAE d_in=32 d_sae=256");
      // A refused state leaves the trainer as it was.
      assertThat(unscaled.state().tokensSeen()).isEqualTo(500);
    }
  }

  @Test
  void aStateRecordChecksItsParts() {
    try (SaeTrainer t = new SaeTrainer("t", settings(SparsityRule.TOPK, 0))) {
      TrainerState s = t.state();
      assertThatThrownBy(
              () ->
                  new TrainerState(
                      t.snapshot(false), 0, 0, 0, 0, new float[0], 0, s.evaluationWindow(), null))
          .hasMessageContaining("a resumable state needs the Adam moments");
      assertThatThrownBy(
              () ->
                  new TrainerState(
                      s.snapshot(), -1, 0, 0, 0, new float[0], 0, s.evaluationWindow(), null))
          .hasMessageContaining("must be >= 0, were -1, 0, 0");
      assertThatThrownBy(
              () ->
                  new TrainerState(
                      s.snapshot(), 0, 0, 0, 0, new float[D_IN + 1], 0, s.evaluationWindow(), null))
          .hasMessageContaining("buffer rows must be whole rows of d_in=32, were 33");
      EvaluationWindow.Sums narrow =
          new EvaluationWindow.Sums(new double[4], new double[4], new long[128], 0, 0, 0);
      assertThatThrownBy(
              () -> new TrainerState(s.snapshot(), 0, 0, 0, 0, new float[0], 0, narrow, null))
          .hasMessageContaining("evaluation window must be for d_in=32, d_sae=128, was for 4, 128");
    }
  }

  /** Every field equal; float arrays compared bit for bit. */
  static void assertIdentical(TrainerState actual, TrainerState expected) {
    TrainerSnapshot a = actual.snapshot();
    TrainerSnapshot e = expected.snapshot();
    assertThat(a.step()).isEqualTo(e.step());
    assertThat(a.tokensTrained()).isEqualTo(e.tokensTrained());
    assertThat(a.wEnc()).isEqualTo(e.wEnc());
    assertThat(a.bEnc()).isEqualTo(e.bEnc());
    assertThat(a.wDec()).isEqualTo(e.wDec());
    assertThat(a.bDec()).isEqualTo(e.bDec());
    assertThat(a.moments()).hasSameSizeAs(e.moments()).hasSize(8);
    for (int i = 0; i < a.moments().size(); i++) {
      assertThat(a.moments().get(i)).as("moment %d", i).isEqualTo(e.moments().get(i));
    }
    assertThat(Double.doubleToLongBits(a.activationScale()))
        .isEqualTo(Double.doubleToLongBits(e.activationScale()));
    assertThat(a.threshold()).isEqualTo(e.threshold());
    assertThat(a.tokensSinceFired()).isEqualTo(e.tokensSinceFired());
    assertThat(actual.tokensSeen()).isEqualTo(expected.tokensSeen());
    assertThat(actual.batchesDrawn()).isEqualTo(expected.batchesDrawn());
    assertThat(actual.scaleObserved()).isEqualTo(expected.scaleObserved());
    assertThat(actual.scaleSumOfNorms()).isEqualTo(expected.scaleSumOfNorms());
    assertThat(actual.bufferRows()).isEqualTo(expected.bufferRows());
    assertThat(actual.bufferRandomState()).isEqualTo(expected.bufferRandomState());
    EvaluationWindow.Sums aw = actual.evaluationWindow();
    EvaluationWindow.Sums ew = expected.evaluationWindow();
    assertThat(aw.sumX()).isEqualTo(ew.sumX());
    assertThat(aw.sumSqX()).isEqualTo(ew.sumSqX());
    assertThat(aw.fired()).isEqualTo(ew.fired());
    assertThat(aw.sse()).isEqualTo(ew.sse());
    assertThat(aw.l0Sum()).isEqualTo(ew.l0Sum());
    assertThat(aw.tokens()).isEqualTo(ew.tokens());
    assertThat(actual.lastEvaluation()).isEqualTo(expected.lastEvaluation());
  }
}
