package io.saestream.sae.training;

import io.saestream.sae.checkpoint.Architecture;
import io.saestream.sae.checkpoint.Fixtures;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;
import java.util.Objects;

/**
 * The sae-lens train_step fixtures ({@code train_step_topk}, {@code train_step_batchtopk}): the
 * step spec read from each case's {@code training_checkpoint/cfg.json} (through the project's
 * checkpoint reader) and the expected tensors.
 */
final class TrainStepFixtures {

  static final String TOPK = "train_step_topk";
  static final String BATCH_TOPK = "train_step_batchtopk";

  private TrainStepFixtures() {}

  /** The spec sae-lens trained the case with (Adam and clip constants are sae-lens defaults). */
  static TrainingStepSpec spec(String fixtureCase) {
    try (SaeCheckpoint ckpt = SaeCheckpoint.open(Fixtures.trainingCheckpoint(fixtureCase))) {
      SaeConfig cfg = ckpt.config();
      if (!cfg.rescaleActsByDecoderNorm()) {
        throw new IllegalStateException(fixtureCase + ": expected rescale_acts_by_decoder_norm");
      }
      double k = Objects.requireNonNull(cfg.k(), "k");
      double coefficient = cfg.toJson().path("aux_loss_coefficient").asDouble(Double.NaN);
      TrainingStepSpec spec =
          cfg.architecture() == Architecture.BATCHTOPK
              ? TrainingStepSpec.batchTopK(cfg.dIn(), cfg.dSae(), k)
              : TrainingStepSpec.topK(cfg.dIn(), cfg.dSae(), cfg.topK());
      return spec.withAuxLossCoefficient(coefficient);
    }
  }

  static Fixtures.Expected expected(String fixtureCase) {
    return Fixtures.expected(fixtureCase);
  }

  static SaeProblem problem(String fixtureCase) {
    return SaeProblem.fromFixture(spec(fixtureCase), expected(fixtureCase));
  }
}
