package io.saestream.trainer.training;

import java.util.List;

/**
 * Evaluation of an SAE on the held-out batches of one window.
 *
 * @param tokens held-out tokens evaluated
 * @param fvu fraction of variance unexplained, {@code Σ‖x−x̂‖² / Σ‖x−x̄‖²} with x̄ the
 *     per-dimension mean over the window; NaN when no token was evaluated
 * @param l0 mean number of firing latents per token
 * @param deadFraction fraction of latents not fired within the dead-latent window (training side)
 * @param densityHistogram latents per bucket of log10 firing density over the window: bucket 0
 *     never fired, bucket i (1..6) has density in [10^(i−7), 10^(i−6)), the last bucket density ≥
 *     0.1
 */
public record EvaluationReport(
    long tokens, double fvu, double l0, double deadFraction, List<Integer> densityHistogram) {

  /** Copies the histogram. */
  public EvaluationReport {
    densityHistogram = List.copyOf(densityHistogram);
  }

  /** Explained variance, {@code 1 − FVU}. */
  public double explainedVariance() {
    return 1 - fvu;
  }

  @Override
  public String toString() {
    return String.format(
        java.util.Locale.ROOT,
        "eval[tokens=%d fvu=%.4f ev=%.4f l0=%.2f dead=%.3f density=%s]",
        tokens,
        fvu,
        explainedVariance(),
        l0,
        deadFraction,
        densityHistogram);
  }
}
