package io.saestream.synthetic.produce;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * When a {@link SyntheticProducer#run} stops, and how fast it goes. A run also stops when its
 * source is exhausted or {@link SyntheticProducer#stop()} is called.
 *
 * @param maxRecords stop after this many records; {@link #UNLIMITED} for no limit
 * @param maxDuration stop once this much time has passed; null for no limit
 * @param tokensPerSecond pace the run to this many tokens per second on average; 0 for as fast as
 *     possible
 */
public record ProduceLimits(
    long maxRecords, @Nullable Duration maxDuration, double tokensPerSecond) {

  /** {@link #maxRecords()} without a limit. */
  public static final long UNLIMITED = Long.MAX_VALUE;

  /** Validates the limits. */
  public ProduceLimits {
    if (maxRecords <= 0) {
      throw new IllegalArgumentException("record count must be > 0, was " + maxRecords);
    }
    if (maxDuration != null && (maxDuration.isNegative() || maxDuration.isZero())) {
      throw new IllegalArgumentException("duration must be > 0, was " + maxDuration);
    }
    if (!(tokensPerSecond >= 0) || Double.isInfinite(tokensPerSecond)) {
      throw new IllegalArgumentException(
          "rate must be finite and >= 0 tokens/s (0 = as fast as possible), was "
              + tokensPerSecond);
    }
  }

  /** No limit: as fast as possible until stopped or the source ends. */
  public static ProduceLimits unlimited() {
    return new ProduceLimits(UNLIMITED, null, 0);
  }

  /** A copy that stops after {@code records} records. */
  public ProduceLimits withMaxRecords(long records) {
    return new ProduceLimits(records, maxDuration, tokensPerSecond);
  }

  /** A copy that stops after {@code duration}. */
  public ProduceLimits withMaxDuration(Duration duration) {
    return new ProduceLimits(maxRecords, duration, tokensPerSecond);
  }

  /** A copy paced at {@code rate} tokens per second (0: as fast as possible). */
  public ProduceLimits withTokensPerSecond(double rate) {
    return new ProduceLimits(maxRecords, maxDuration, rate);
  }
}
