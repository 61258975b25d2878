package io.saestream.streams.monitoring;

/**
 * This instance's traffic as the monitor sees it: input records and tokens analyzed since start,
 * and tokens per second over the last {@value #RATE_SECONDS} whole seconds of wall-clock time. Fed
 * by the per-sequence monitor of every task (each input record once), read by the HTTP overview.
 * Approximate like any live counter: a batch of an aborted transaction is counted again when it is
 * retried. Thread-safe.
 */
public final class TrafficCounter {

  /** Seconds the rate is averaged over. */
  public static final int RATE_SECONDS = 10;

  private final long[] bucketSecond = new long[RATE_SECONDS + 1];
  private final long[] bucketTokens = new long[RATE_SECONDS + 1];
  private long records;
  private long tokens;

  /** Creates a counter at zero. */
  public TrafficCounter() {
    java.util.Arrays.fill(bucketSecond, Long.MIN_VALUE);
  }

  /** One input record of {@code n} tokens was analyzed at wall-clock time {@code nowMillis}. */
  public synchronized void record(long nowMillis, int n) {
    records++;
    tokens += n;
    long second = Math.floorDiv(nowMillis, 1000);
    int slot = (int) Math.floorMod(second, (long) bucketSecond.length);
    if (bucketSecond[slot] != second) {
      bucketSecond[slot] = second;
      bucketTokens[slot] = 0;
    }
    bucketTokens[slot] += n;
  }

  /** Input records analyzed since start. */
  public synchronized long records() {
    return records;
  }

  /** Tokens analyzed since start. */
  public synchronized long tokens() {
    return tokens;
  }

  /** Tokens per second over the {@value #RATE_SECONDS} whole seconds before {@code nowMillis}. */
  public synchronized double tokensPerSecond(long nowMillis) {
    long current = Math.floorDiv(nowMillis, 1000);
    long sum = 0;
    for (int i = 0; i < bucketSecond.length; i++) {
      long s = bucketSecond[i];
      if (s < current && s >= current - RATE_SECONDS) {
        sum += bucketTokens[i];
      }
    }
    return (double) sum / RATE_SECONDS;
  }
}
