package io.saestream.sae.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TrainingStepSpecTest {

  @Test
  void factoriesUseSaeLensDefaults() {
    TrainingStepSpec s = TrainingStepSpec.topK(768, 16384, 32);
    assertThat(s.rule()).isEqualTo(SparsityRule.TOPK);
    assertThat(s.k()).isEqualTo(32.0);
    assertThat(s.auxLossCoefficient()).isEqualTo(1.0);
    assertThat(s.adamBeta1()).isEqualTo(0.0);
    assertThat(s.adamBeta2()).isEqualTo(0.999);
    assertThat(s.adamEpsilon()).isEqualTo(1e-8);
    assertThat(s.maxGradNorm()).isEqualTo(1.0);
    assertThat(s.clipsGradients()).isTrue();
    assertThat(s.auxK()).isEqualTo(384);
    assertThat(TrainingStepSpec.batchTopK(32, 128, 8.5).rule()).isEqualTo(SparsityRule.BATCH_TOPK);
  }

  @Test
  void withersReplaceOneConcern() {
    TrainingStepSpec s =
        TrainingStepSpec.topK(16, 64, 4)
            .withAdam(0.9, 0.99, 1e-6)
            .withAuxLossCoefficient(1 / 32.0)
            .withMaxGradNorm(Double.POSITIVE_INFINITY);
    assertThat(s)
        .isEqualTo(
            new TrainingStepSpec(
                16, 64, 4, SparsityRule.TOPK, 1 / 32.0, 0.9, 0.99, 1e-6, Double.POSITIVE_INFINITY));
    assertThat(s.clipsGradients()).isFalse();
  }

  @Test
  void keptPerBatchTruncatesLikeSaeLens() {
    assertThat(TrainingStepSpec.batchTopK(16, 64, 2.5).keptPerBatch(3)).isEqualTo(7);
    assertThat(TrainingStepSpec.topK(16, 64, 4).keptPerBatch(10)).isEqualTo(40);
    assertThatThrownBy(() -> TrainingStepSpec.topK(16, 64, 4).keptPerBatch(0))
        .hasMessage("batch size must be > 0, was 0");
  }

  @Test
  @SuppressWarnings("NullAway") // passes null on purpose
  void rejectsInvalidFieldsWithTheValue() {
    assertThatThrownBy(() -> TrainingStepSpec.topK(1, 64, 4))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("d_in must be >= 2, was 1");
    assertThatThrownBy(() -> TrainingStepSpec.topK(16, 0, 4))
        .hasMessage("d_sae must be > 0, was 0");
    assertThatThrownBy(() -> TrainingStepSpec.topK(16, 64, 0))
        .hasMessage("k must be in [1, d_sae=64], was 0.0");
    assertThatThrownBy(() -> TrainingStepSpec.topK(16, 64, 65))
        .hasMessage("k must be in [1, d_sae=64], was 65.0");
    assertThatThrownBy(() -> TrainingStepSpec.batchTopK(16, 64, Double.NaN))
        .hasMessage("k must be in [1, d_sae=64], was NaN");
    assertThatThrownBy(
            () -> new TrainingStepSpec(16, 64, 2.5, SparsityRule.TOPK, 1, 0, 0.999, 1e-8, 1))
        .hasMessage("k must be an integer for topk, was 2.5");
    TrainingStepSpec ok = TrainingStepSpec.topK(16, 64, 4);
    assertThatThrownBy(() -> ok.withAuxLossCoefficient(-1))
        .hasMessage("aux_loss_coefficient must be finite and >= 0, was -1.0");
    assertThatThrownBy(() -> ok.withAuxLossCoefficient(Double.POSITIVE_INFINITY))
        .hasMessage("aux_loss_coefficient must be finite and >= 0, was Infinity");
    assertThatThrownBy(() -> ok.withAdam(1.0, 0.999, 1e-8))
        .hasMessage("adam_beta1 must be in [0, 1), was 1.0");
    assertThatThrownBy(() -> ok.withAdam(-0.1, 0.999, 1e-8))
        .hasMessage("adam_beta1 must be in [0, 1), was -0.1");
    assertThatThrownBy(() -> ok.withAdam(0, 1.0, 1e-8))
        .hasMessage("adam_beta2 must be in [0, 1), was 1.0");
    assertThatThrownBy(() -> ok.withAdam(0, 0.999, 0))
        .hasMessage("adam_epsilon must be finite and > 0, was 0.0");
    assertThatThrownBy(() -> ok.withAdam(0, 0.999, Double.NaN))
        .hasMessage("adam_epsilon must be finite and > 0, was NaN");
    assertThatThrownBy(() -> ok.withMaxGradNorm(0))
        .hasMessage("max_grad_norm must be > 0 (Infinity disables clipping), was 0.0");
    assertThatThrownBy(() -> ok.withMaxGradNorm(Double.NaN))
        .hasMessage("max_grad_norm must be > 0 (Infinity disables clipping), was NaN");
    assertThatThrownBy(() -> new TrainingStepSpec(16, 64, 4, null, 1, 0, 0.999, 1e-8, 1))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("rule");
  }
}
