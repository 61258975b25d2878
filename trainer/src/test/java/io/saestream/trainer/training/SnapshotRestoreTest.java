package io.saestream.trainer.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.synthetic.GroundTruthModel;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SnapshotRestoreTest {

  private static TrainingSettings settings() {
    return TrainingSettings.builder(128, 256, 8)
        .batchSize(128)
        .bufferTokens(1024)
        .schedule(LearningRateSchedule.constant(1e-3))
        .scaleEstimationTokens(512)
        .intraOpThreads(1)
        .seed(3)
        .build();
  }

  @Test
  void aRestoredTrainerContinuesExactlyWhereTheSnapshotWasTaken() {
    GroundTruthModel truth = SyntheticTraining.model();
    float[] first = truth.sampleBatch(new SplittableRandom(1), 4096);
    try (SaeTrainer a = new SaeTrainer("a", settings());
        SaeTrainer b = new SaeTrainer("b", settings())) {
      a.offer(first, 0, 4096);
      TrainerSnapshot saved = a.snapshot(true);
      assertThat(saved.moments()).hasSize(8);
      b.restore(saved);
      assertThat(b.step()).isEqualTo(a.step()).isPositive();
      assertThat(b.activationScale()).isEqualTo(a.activationScale());
      // Same parameters, moments, step and scale: the same batch gives the same update.
      float[] x = truth.sampleBatch(new SplittableRandom(2), 512);
      assertThat(b.forward(x, 512).reconstruction())
          .containsExactly(a.forward(x, 512).reconstruction());
      assertThat(b.decoderRows()).containsExactly(a.decoderRows());
    }
  }

  @Test
  void aSnapshotWithoutMomentsOrOfAnotherShapeIsRefused() {
    try (SaeTrainer a = new SaeTrainer("a", settings());
        SaeTrainer other =
            new SaeTrainer("o", settings().toBuilder().scaleEstimationTokens(0).build())) {
      a.offer(SyntheticTraining.model().sampleBatch(new SplittableRandom(3), 600), 0, 600);
      assertThat(a.activationScale()).isPositive();
      assertThatThrownBy(() -> a.restore(a.snapshot(false)))
          .hasMessageContaining("saved state lacks the Adam moments");
      assertThatThrownBy(() -> other.restore(a.snapshot(true)))
          .hasMessageContaining("trained with activation scaling");
    }
  }

  @Test
  void aClosedTrainerRefusesWork() {
    SaeTrainer t = new SaeTrainer("c", settings());
    t.close();
    assertThatThrownBy(() -> t.offer(new float[128], 0, 1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("trainer for SAE c is closed");
  }
}
