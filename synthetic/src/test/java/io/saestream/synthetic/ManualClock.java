package io.saestream.synthetic;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A clock that moves only when told to, optionally by a fixed step on every reading. */
public final class ManualClock extends Clock {

  private Instant now;
  private final Duration stepPerReading;

  /** A clock at {@code start} that advances {@code stepPerReading} after each reading. */
  public ManualClock(Instant start, Duration stepPerReading) {
    this.now = start;
    this.stepPerReading = stepPerReading;
  }

  /** A clock at {@code start} that moves only through {@link #advance}. */
  public static ManualClock at(Instant start) {
    return new ManualClock(start, Duration.ZERO);
  }

  /** Moves the clock. */
  public synchronized void advance(Duration d) {
    now = now.plus(d);
  }

  @Override
  public synchronized Instant instant() {
    Instant reading = now;
    now = now.plus(stepPerReading);
    return reading;
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException("a test clock has one zone");
  }
}
