package io.saestream.trainer.training;

import io.saestream.synthetic.GroundTruthConfig;
import io.saestream.synthetic.GroundTruthModel;
import java.util.SplittableRandom;

/**
 * Trains a {@link SaeTrainer} on {@link GroundTruthModel} activations, for the trainer's tests in
 * every package. Stateless; the trainer fed stays the caller's.
 */
public final class SyntheticTraining {

  private SyntheticTraining() {}

  /**
   * d_in 128, 256 features in superposition, ~4 active per token, Zipf α = 0.5, noise at SNR 50 and
   * a constant offset of norm 1.
   */
  public static GroundTruthModel model() {
    return new GroundTruthModel(new GroundTruthConfig(128, 256, 7L, 0.5, 4.0, 0.5, 1.0, 50.0, 1.0));
  }

  /** Feeds {@code tokens} tokens in records of {@code recordTokens}, as Kafka records arrive. */
  public static void feed(
      SaeTrainer trainer, GroundTruthModel model, long tokens, int recordTokens, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    long fed = 0;
    while (fed < tokens) {
      int n = (int) Math.min(recordTokens, tokens - fed);
      float[] x = model.sampleBatch(random, n);
      trainer.offer(x, 0, n);
      fed += n;
    }
  }
}
