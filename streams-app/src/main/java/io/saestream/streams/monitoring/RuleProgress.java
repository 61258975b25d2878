package io.saestream.streams.monitoring;

/**
 * Progress of one aggregate rule (rate or drift): windows closed, the EWMA baseline of a rate rule,
 * and the start of the last closed window (later summaries of it are late and dropped). Mutable;
 * owned by the per-SAE monitor of the task that owns the rule's SAE.
 */
final class RuleProgress {

  /** Windows closed so far. */
  public long windows;

  /** EWMA of the closed windows' rates (rate rules). */
  public double baseline;

  /** Start of the last closed window, or {@link Long#MIN_VALUE}. */
  public long lastClosedStart = Long.MIN_VALUE;
}
