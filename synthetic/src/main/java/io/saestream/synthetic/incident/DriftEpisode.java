package io.saestream.synthetic.incident;

import java.time.Duration;
import java.util.Objects;

/**
 * A drift episode: for {@code duration} from {@link #at()}, every token also carries a direction
 * that is not in the dictionary, with a norm of about {@code scale} times the typical signal norm,
 * so that an SAE trained on the normal distribution reconstructs the tokens much worse.
 *
 * @param at when the episode starts, after the start of production
 * @param duration how long it lasts
 * @param scale norm of the added component relative to {@code √E‖signal‖²}; each token draws its
 *     own factor uniformly from {@code [0.5, 1.5]·scale}
 */
public record DriftEpisode(Duration at, Duration duration, double scale) implements Incident {

  /** Default {@link #scale()}. */
  public static final double DEFAULT_SCALE = 3.0;

  /** Validates the fields. */
  public DriftEpisode {
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(duration, "duration");
    if (at.isNegative()) {
      throw new IllegalArgumentException("drift time must be >= 0, was " + at);
    }
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException("drift duration must be > 0, was " + duration);
    }
    if (!(scale > 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("drift scale must be finite and > 0, was " + scale);
    }
  }

  /** Whether the episode is under way {@code elapsed} after the start of production. */
  public boolean activeAt(Duration elapsed) {
    return elapsed.compareTo(at) >= 0 && elapsed.compareTo(at.plus(duration)) < 0;
  }

  @Override
  public String spec() {
    return "drift@"
        + CompactDuration.format(at)
        + "+"
        + CompactDuration.format(duration)
        + ":scale="
        + scale;
  }
}
