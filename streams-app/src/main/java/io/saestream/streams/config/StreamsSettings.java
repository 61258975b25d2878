package io.saestream.streams.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How the Kafka Streams application processes records.
 *
 * @param threads stream threads of this instance ({@code num.stream.threads})
 * @param maxTokensPerRecord largest {@code n_tokens} accepted in one ActivationBatch; larger
 *     records are dead letters. Bounds the memory and latency of one inference call.
 * @param stateDir Kafka Streams state directory ({@code state.dir}); must be distinct per instance
 *     on one host
 * @param commitInterval how often offsets and transactions are committed ({@code
 *     commit.interval.ms}); with exactly-once this is also the output latency
 * @param shutdownTimeout how long closing waits for stream threads to finish
 */
public record StreamsSettings(
    int threads,
    int maxTokensPerRecord,
    Path stateDir,
    Duration commitInterval,
    Duration shutdownTimeout) {

  /** Default {@link #threads()}. */
  public static final int DEFAULT_THREADS = 1;

  /** Default {@link #maxTokensPerRecord()}. */
  public static final int DEFAULT_MAX_TOKENS_PER_RECORD = 4096;

  /** Default {@link #commitInterval()}, Kafka's default under exactly-once. */
  public static final Duration DEFAULT_COMMIT_INTERVAL = Duration.ofMillis(100);

  /** Default {@link #shutdownTimeout()}. */
  public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);

  /** Validates the settings. */
  public StreamsSettings {
    Objects.requireNonNull(stateDir, "streams.state-dir");
    Objects.requireNonNull(commitInterval, "streams.commit-interval");
    Objects.requireNonNull(shutdownTimeout, "streams.shutdown-timeout");
    if (threads <= 0) {
      throw new IllegalArgumentException("streams.threads must be > 0, was " + threads);
    }
    if (maxTokensPerRecord <= 0) {
      throw new IllegalArgumentException(
          "streams.max-tokens-per-record must be > 0, was " + maxTokensPerRecord);
    }
    requirePositive("streams.commit-interval", commitInterval);
    requirePositive("streams.shutdown-timeout", shutdownTimeout);
  }

  /** The defaults, with the state in {@code <java.io.tmpdir>/sae-stream}. */
  public static StreamsSettings defaults() {
    return new StreamsSettings(
        DEFAULT_THREADS,
        DEFAULT_MAX_TOKENS_PER_RECORD,
        Path.of(System.getProperty("java.io.tmpdir"), "sae-stream"),
        DEFAULT_COMMIT_INTERVAL,
        DEFAULT_SHUTDOWN_TIMEOUT);
  }

  private static void requirePositive(String key, Duration value) {
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(key + " must be > 0, was " + value);
    }
  }
}
