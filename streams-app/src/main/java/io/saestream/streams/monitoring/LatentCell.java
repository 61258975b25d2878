package io.saestream.streams.monitoring;

import java.util.Objects;

/**
 * Statistics of one latent of one SAE in one window: how many tokens it fired on, the sum and the
 * maximum of its activations, and their {@link ActivationHistogram}.
 *
 * @param firings tokens on which the latent was non-zero
 * @param sum sum of its activations
 * @param max largest activation
 * @param histogram its activations in fixed bins
 */
public record LatentCell(long firings, double sum, double max, ActivationHistogram histogram) {

  /** Checks for null. */
  public LatentCell {
    Objects.requireNonNull(histogram, "histogram");
  }

  /** This cell plus another (maximum of the maxima). */
  public LatentCell plus(LatentCell o) {
    return new LatentCell(
        firings + o.firings, sum + o.sum, Math.max(max, o.max), histogram.plus(o.histogram));
  }
}
