package io.saestream.trainer.app;

import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.Dtype;
import io.saestream.synthetic.GroundTruthConfig;
import io.saestream.synthetic.GroundTruthModel;
import java.util.SplittableRandom;

/**
 * The activations of the trainer's integration tests: records of 32 tokens drawn from a {@link
 * GroundTruthModel} (d_in 16, 32 features), as model {@code synthetic-model} writes them at hook
 * {@code blocks.0.hook_resid_pre}, and the small TopK trainer that learns them. Stateless.
 */
final class SyntheticActivationStream {

  /** The model the records claim to come from. */
  static final String MODEL = "synthetic-model";

  /** The hook they were taken at. */
  static final String HOOK = "blocks.0.hook_resid_pre";

  /** Width of a row. */
  static final int D_IN = 16;

  /** Width of the trainer's SAE. */
  static final int D_SAE = 64;

  /** Tokens in every record. */
  static final int TOKENS_PER_RECORD = 32;

  private static final GroundTruthModel TRUTH =
      new GroundTruthModel(GroundTruthConfig.defaults(D_IN, 32, 11));

  private SyntheticActivationStream() {}

  /**
   * SAE {@code saeId} on these activations, reading {@code activations} and publishing to {@code
   * checkpoints}: k 4, batches of 64 from a 256-token buffer, lr 1e-3 after 5 warm-up steps, 100 ms
   * polls.
   */
  static TrainerYaml trainer(String saeId, String activations, String checkpoints) {
    return TrainerYaml.topK(saeId, MODEL, HOOK, D_IN, D_SAE, 4)
        .training(64, 256, 1e-3, 5)
        .pollTimeout("100ms")
        .topics(activations, checkpoints);
  }

  /** Record {@code sequenceId}: its tokens drawn from {@code rng}, encoded as {@code dtype}. */
  static ActivationBatch record(String sequenceId, Dtype dtype, SplittableRandom rng) {
    float[] rows = TRUTH.sampleBatch(rng, TOKENS_PER_RECORD);
    return ActivationBatches.batch(
        MODEL,
        HOOK,
        sequenceId,
        TOKENS_PER_RECORD,
        D_IN,
        dtype,
        ActivationBatches.encode(rows, dtype));
  }
}
