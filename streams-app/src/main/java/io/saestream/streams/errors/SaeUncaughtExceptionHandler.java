package io.saestream.streams.errors;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;
import java.util.function.LongSupplier;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens when a stream thread dies (its exception got past the processing handler, i.e. it is
 * infrastructure):
 *
 * <ul>
 *   <li>a transient failure ({@link Failures#isTransient}: schema registry unreachable or failing,
 *       a Kafka retriable error) → {@code REPLACE_THREAD}: a fresh thread resumes the tasks from
 *       the last committed transaction, so nothing is lost or duplicated; at most {@code
 *       maxReplacements} per {@code window}, after which the failure counts as persistent;
 *   <li>anything else (ONNX Runtime failures, defects in our code, missing topics, persistent
 *       outages) → {@code SHUTDOWN_CLIENT}: this instance stops, its partitions move to the other
 *       instances, and the process exits non-zero so that its supervisor restarts or alerts. Never
 *       {@code SHUTDOWN_APPLICATION}: a local fault (one host's GPU) must not stop healthy peers.
 * </ul>
 *
 * <p>Thread-safe.
 */
public final class SaeUncaughtExceptionHandler implements StreamsUncaughtExceptionHandler {

  /** Default {@code maxReplacements}. */
  public static final int DEFAULT_MAX_REPLACEMENTS = 3;

  /** Default {@code window}. */
  public static final Duration DEFAULT_WINDOW = Duration.ofMinutes(5);

  private static final Logger LOG = LoggerFactory.getLogger(SaeUncaughtExceptionHandler.class);

  private final int maxReplacements;
  private final long windowNanos;
  private final LongSupplier nanoTime;
  private final Deque<Long> replacements = new ArrayDeque<>();

  /** The default policy: 3 thread replacements per 5 minutes. */
  public SaeUncaughtExceptionHandler() {
    this(DEFAULT_MAX_REPLACEMENTS, DEFAULT_WINDOW, System::nanoTime);
  }

  /** A policy allowing {@code maxReplacements} per {@code window}, timed by {@code nanoTime}. */
  public SaeUncaughtExceptionHandler(int maxReplacements, Duration window, LongSupplier nanoTime) {
    if (maxReplacements < 0) {
      throw new IllegalArgumentException("maxReplacements must be >= 0, was " + maxReplacements);
    }
    if (window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException("window must be > 0, was " + window);
    }
    this.maxReplacements = maxReplacements;
    this.windowNanos = window.toNanos();
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
  }

  @Override
  public StreamThreadExceptionResponse handle(Throwable exception) {
    if (Failures.isTransient(exception) && tryReplace()) {
      LOG.warn("Stream thread died of a transient failure; replacing it", exception);
      return StreamThreadExceptionResponse.REPLACE_THREAD;
    }
    LOG.error(
        "Stream thread died of a failure that a new thread would not fix; shutting this instance"
            + " down (its partitions move to the other instances)",
        exception);
    return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
  }

  private synchronized boolean tryReplace() {
    long now = nanoTime.getAsLong();
    while (!replacements.isEmpty() && now - replacements.peekFirst() > windowNanos) {
      replacements.removeFirst();
    }
    if (replacements.size() >= maxReplacements) {
      return false;
    }
    replacements.addLast(now);
    return true;
  }
}
