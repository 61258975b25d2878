package io.saestream.streams.monitoring;

import java.util.Locale;

/**
 * Store keys of the monitor. Window starts and latents are fixed-width hex, so that the stores'
 * lexicographic order is numeric order and a window's or a rule's entries are one range.
 */
final class MonitorKeys {

  /** Latent part of a window's totals row in the latent-stats store. */
  static final String TOTALS = "totals";

  private MonitorKeys() {}

  /** Start of the tumbling window of {@code size} ms holding {@code timestamp}. */
  static long windowStart(long timestamp, long size) {
    return timestamp - Math.floorMod(timestamp, size);
  }

  static String hex(long value) {
    // Offset so that negative timestamps still sort before positive ones.
    return String.format(Locale.ROOT, "%016x", value ^ Long.MIN_VALUE);
  }

  static long unhex(String text) {
    return Long.parseUnsignedLong(text, 16) ^ Long.MIN_VALUE;
  }

  static String latent(int latent) {
    return String.format(Locale.ROOT, "%08x", latent);
  }

  /** Per-sequence rule state: window|rule|sequence. */
  static String sequenceWindow(long windowStart, String ruleId, String sequenceId) {
    return hex(windowStart) + "|" + ruleId + "|" + sequenceId;
  }

  /** Aggregate rule state: rule|window. */
  static String aggregateWindow(String ruleId, long windowStart) {
    return ruleId + "|" + hex(windowStart);
  }

  /** Latent statistics: sae|window|latent (or {@link #TOTALS}). */
  static String latentStats(String saeId, long windowStart, String latentPart) {
    return saeId + "|" + hex(windowStart) + "|" + latentPart;
  }

  /** Top contexts: sae|latent. */
  static String contexts(String saeId, int latent) {
    return saeId + "|" + latent(latent);
  }
}
