package io.saestream.synthetic.incident;

import java.time.Duration;
import java.util.Objects;

/**
 * A latent burst: one feature fires with a fixed, high magnitude in {@code tokens} consecutive
 * tokens of one sequence, the one whose tokens are generated next once {@link #at()} has passed.
 * This is what a "feature active in ≥ c tokens of one sequence" alert rule should catch.
 *
 * @param at when the burst starts, after the start of production
 * @param feature the feature that bursts
 * @param tokens how many consecutive tokens of the sequence carry it
 * @param magnitude the feature's magnitude in those tokens
 */
public record LatentBurst(Duration at, int feature, int tokens, double magnitude)
    implements Incident {

  /** Default {@link #tokens()}. */
  public static final int DEFAULT_TOKENS = 16;

  /**
   * Default {@link #magnitude()}: with the default magnitude scale natural magnitudes are {@code 1
   * + Exponential(1)}, and one in e^9 reaches 10.
   */
  public static final double DEFAULT_MAGNITUDE = 10.0;

  /** Validates the fields. */
  public LatentBurst {
    Objects.requireNonNull(at, "at");
    if (at.isNegative()) {
      throw new IllegalArgumentException("burst time must be >= 0, was " + at);
    }
    if (feature < 0) {
      throw new IllegalArgumentException("burst feature must be >= 0, was " + feature);
    }
    if (tokens <= 0) {
      throw new IllegalArgumentException("burst tokens must be > 0, was " + tokens);
    }
    if (!(magnitude > 0) || Double.isInfinite(magnitude)) {
      throw new IllegalArgumentException(
          "burst magnitude must be finite and > 0, was " + magnitude);
    }
  }

  @Override
  public String spec() {
    return "burst@"
        + CompactDuration.format(at)
        + ":feature="
        + feature
        + ",tokens="
        + tokens
        + ",magnitude="
        + magnitude;
  }
}
