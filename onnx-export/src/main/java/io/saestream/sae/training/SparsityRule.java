package io.saestream.sae.training;

/** Which latents a training step keeps; both rescale by the decoder row norms as sae-lens does. */
public enum SparsityRule {
  /** sae-lens {@code TopKTrainingSAE}: the k largest pre-activations of each row, then ReLU. */
  TOPK,
  /** sae-lens {@code BatchTopKTrainingSAE}: the ⌊k·B⌋ largest ReLU activations of the batch. */
  BATCH_TOPK
}
