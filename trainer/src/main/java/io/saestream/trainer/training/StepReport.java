package io.saestream.trainer.training;

/**
 * What one optimizer step reported.
 *
 * @param step the 1-based number of the update
 * @param learningRate the rate it used
 * @param loss {@code mse_loss + aux_loss}
 * @param mseLoss reconstruction loss (per token, summed over dimensions, in training scale)
 * @param auxLoss aux-k loss
 * @param gradNorm global gradient norm before clipping
 * @param l0 mean firing latents per token
 * @param deadLatents latents counted dead when the step ran
 */
public record StepReport(
    long step,
    double learningRate,
    double loss,
    double mseLoss,
    double auxLoss,
    double gradNorm,
    double l0,
    int deadLatents) {}
