package io.saestream.streams.monitoring;

/**
 * What one SAE saw in one statistics window, beyond its per-latent cells: tokens, batches, the sums
 * behind the window's FVU, mean relative error and mean L0, how many latents fired, and, once the
 * window is frozen (the SAE's watermark passed its end plus the grace), how many were dense.
 *
 * @param tokens tokens analyzed
 * @param batches batches analyzed
 * @param fvuSum Σ batch FVU × batch tokens over batches with a finite FVU
 * @param fvuTokens tokens of those batches
 * @param relativeErrorSum Σ finite per-token relative errors
 * @param relativeErrorCount their number
 * @param l0Sum Σ per-token L0
 * @param dSae the SAE's width
 * @param saeVersion the highest SAE version seen in the window
 * @param firingLatents latents that fired at least once
 * @param denseLatents latents with density ≥ {@code monitoring.dense-density}, or −1 while the
 *     window is open (then computed at query time)
 */
public record WindowTotals(
    long tokens,
    long batches,
    double fvuSum,
    long fvuTokens,
    double relativeErrorSum,
    long relativeErrorCount,
    long l0Sum,
    int dSae,
    long saeVersion,
    int firingLatents,
    int denseLatents) {

  /** Nothing seen yet. */
  static WindowTotals empty() {
    return new WindowTotals(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1);
  }

  /** These totals plus batch {@code s}, of which {@code newLatents} had not fired before. */
  WindowTotals plus(BatchSummary s, int newLatents) {
    boolean finite = Double.isFinite(s.fvu);
    return new WindowTotals(
        tokens + s.nTokens,
        batches + 1,
        fvuSum + (finite ? s.fvu * s.nTokens : 0),
        fvuTokens + (finite ? s.nTokens : 0),
        relativeErrorSum + s.relativeErrorSum,
        relativeErrorCount + s.relativeErrorCount,
        l0Sum + s.l0Sum,
        Math.max(dSae, s.dSae),
        Math.max(saeVersion, s.saeVersion),
        firingLatents + newLatents,
        denseLatents);
  }

  /** These totals frozen with their count of dense latents. */
  WindowTotals frozen(int dense) {
    return new WindowTotals(
        tokens,
        batches,
        fvuSum,
        fvuTokens,
        relativeErrorSum,
        relativeErrorCount,
        l0Sum,
        dSae,
        saeVersion,
        firingLatents,
        dense);
  }

  /** These totals no longer frozen (a late summary changed them). */
  WindowTotals thawed() {
    return isFrozen() ? frozen(-1) : this;
  }

  /** Whether the window's dense latents are counted (the watermark passed it). */
  public boolean isFrozen() {
    return denseLatents >= 0;
  }

  /** Token-weighted mean of the batches' FVU, NaN when no batch had one. */
  public double fvu() {
    return fvuTokens == 0 ? Double.NaN : fvuSum / fvuTokens;
  }

  /** Mean per-token relative error, NaN without tokens. */
  public double meanRelativeError() {
    return relativeErrorCount == 0 ? Double.NaN : relativeErrorSum / relativeErrorCount;
  }

  /** Mean L0 per token, NaN without tokens. */
  public double meanL0() {
    return tokens == 0 ? Double.NaN : (double) l0Sum / tokens;
  }
}
