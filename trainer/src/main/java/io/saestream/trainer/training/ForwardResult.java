package io.saestream.trainer.training;

/**
 * A training-mode forward pass over a batch, in the caller's (unscaled) units.
 *
 * @param reconstruction x̂, row-major {@code [tokens, d_in]}, divided back by the activation scale
 * @param l0 mean firing latents per token
 * @param firedCounts per latent, the tokens it fired on
 */
// Owned by the caller once returned; batch-sized arrays are handed over, not copied.
@SuppressWarnings("ArrayRecordComponent")
public record ForwardResult(float[] reconstruction, double l0, long[] firedCounts) {}
