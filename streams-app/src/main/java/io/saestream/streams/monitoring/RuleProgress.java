package io.saestream.streams.monitoring;

/**
 * Progress of one aggregate rule (rate or drift): windows closed, the EWMA baseline of a rate rule,
 * and the start of the last closed window (later records of it are late and dropped). Mutable;
 * owned by the monitor processor of one task.
 */
final class RuleProgress {

  /** Windows closed so far. */
  public long windows;

  /** EWMA of the closed windows' rates (rate rules). */
  public double baseline;

  /** Start of the last closed window, or {@link Long#MIN_VALUE}. */
  public long lastClosedStart = Long.MIN_VALUE;
}
