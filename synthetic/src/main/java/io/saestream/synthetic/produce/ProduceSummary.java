package io.saestream.synthetic.produce;

import java.time.Duration;
import java.util.Locale;

/**
 * What a {@link SyntheticProducer#run} produced; every record counted here was acknowledged.
 *
 * @param records records written
 * @param tokens tokens in those records
 * @param dataBytes bytes of activation data in those records
 * @param elapsed time from the start of the run until everything was acknowledged
 */
public record ProduceSummary(long records, long tokens, long dataBytes, Duration elapsed) {

  /** Tokens per second over the run; 0 for an empty or instantaneous run. */
  public double tokensPerSecond() {
    double seconds = elapsed.toNanos() / 1e9;
    return seconds > 0 ? tokens / seconds : 0.0;
  }

  /** One line for people. */
  public String describe() {
    return String.format(
        Locale.ROOT,
        "%d records, %d tokens, %.1f MiB of activations in %.1f s (%.0f tokens/s)",
        records,
        tokens,
        dataBytes / (1024.0 * 1024.0),
        elapsed.toNanos() / 1e9,
        tokensPerSecond());
  }
}
