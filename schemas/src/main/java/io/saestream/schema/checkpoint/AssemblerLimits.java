package io.saestream.schema.checkpoint;

import java.time.Duration;
import java.util.Objects;

/**
 * Bounds of a {@link CheckpointAssembler}.
 *
 * @param maxPayloadBytes largest payload accepted; larger manifests are refused at once
 * @param maxBufferedBytes most chunk bytes held at once over every incomplete version; at least
 *     {@code maxPayloadBytes} so that one maximal payload fits
 * @param assemblyTimeout how long a version whose manifest has arrived may wait for missing chunks
 *     once the consumer has caught up, before it is refused; also how long chunks without a
 *     manifest are kept
 */
public record AssemblerLimits(
    long maxPayloadBytes, long maxBufferedBytes, Duration assemblyTimeout) {

  /** Default {@link #maxPayloadBytes()}: 512 MiB. */
  public static final long DEFAULT_MAX_PAYLOAD_BYTES = 512L << 20;

  /** Default {@link #assemblyTimeout()}. */
  public static final Duration DEFAULT_ASSEMBLY_TIMEOUT = Duration.ofSeconds(30);

  /** Validates the bounds. */
  public AssemblerLimits {
    Objects.requireNonNull(assemblyTimeout, "assemblyTimeout");
    if (maxPayloadBytes <= 0) {
      throw new IllegalArgumentException("max payload bytes must be > 0, was " + maxPayloadBytes);
    }
    if (maxBufferedBytes < maxPayloadBytes) {
      throw new IllegalArgumentException(
          "max buffered bytes must be >= max payload bytes ("
              + maxPayloadBytes
              + "), was "
              + maxBufferedBytes);
    }
    if (assemblyTimeout.isNegative() || assemblyTimeout.isZero()) {
      throw new IllegalArgumentException("assembly timeout must be > 0, was " + assemblyTimeout);
    }
  }

  /** 512 MiB payloads, twice that buffered, 30 s assembly timeout. */
  public static AssemblerLimits defaults() {
    return of(DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_ASSEMBLY_TIMEOUT);
  }

  /** Payloads up to {@code maxPayloadBytes}, twice that buffered. */
  public static AssemblerLimits of(long maxPayloadBytes, Duration assemblyTimeout) {
    long buffered = maxPayloadBytes > Long.MAX_VALUE / 2 ? Long.MAX_VALUE : maxPayloadBytes * 2;
    return new AssemblerLimits(maxPayloadBytes, buffered, assemblyTimeout);
  }
}
