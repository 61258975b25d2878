package io.saestream.streams.monitoring;

/**
 * Store keys of the monitor. Window starts and latents are fixed-width hex, so that the stores'
 * lexicographic order is numeric order and a window's or a rule's entries are one range.
 */
final class MonitorKeys {

  private MonitorKeys() {}

  /** Start of the tumbling window of {@code size} ms holding {@code timestamp}. */
  static long windowStart(long timestamp, long size) {
    return timestamp - Math.floorMod(timestamp, size);
  }

  static String hex(long value) {
    // Offset so that negative timestamps still sort before positive ones.
    return fixedHex(value ^ Long.MIN_VALUE, 16);
  }

  static long unhex(String text) {
    return Long.parseUnsignedLong(text, 16) ^ Long.MIN_VALUE;
  }

  static String latent(int latent) {
    return fixedHex(latent & 0xFFFFFFFFL, 8);
  }

  /** The low {@code digits} hex digits of {@code value}, zero-padded (String.format is slow). */
  private static String fixedHex(long value, int digits) {
    char[] out = new char[digits];
    for (int i = digits - 1; i >= 0; i--) {
      out[i] = Character.forDigit((int) (value & 0xF), 16);
      value >>>= 4;
    }
    return new String(out);
  }

  /** Per-sequence rule state: window|rule|sequence. */
  static String sequenceWindow(long windowStart, String ruleId, String sequenceId) {
    return hex(windowStart) + "|" + ruleId + "|" + sequenceId;
  }

  /** Aggregate rule state: rule|window. */
  static String aggregateWindow(String ruleId, long windowStart) {
    return ruleId + "|" + hex(windowStart);
  }

  /** First key of a window's latent statistics (inclusive). */
  static String latentStatsFrom(String saeId, long windowStart) {
    return saeId + "|" + hex(windowStart) + "|";
  }

  /** Last key of a window's latent statistics (inclusive; latents are hex, '~' sorts after). */
  static String latentStatsTo(String saeId, long windowStart) {
    return saeId + "|" + hex(windowStart) + "|~";
  }

  /** A shard of a window's latent statistics: sae|window|shard. */
  static String latentShard(String saeId, long windowStart, int shard) {
    return saeId + "|" + hex(windowStart) + "|" + latent(shard);
  }

  /** A statistics delta of a window: sae|window|sequence. */
  static String delta(String saeId, long windowStart, long sequence) {
    return saeId + "|" + hex(windowStart) + "|" + hex(sequence);
  }

  /** The sequence part of a delta key. */
  static long sequenceOf(String key) {
    return unhex(key.substring(key.lastIndexOf('|') + 1));
  }

  /** The shard part of a latent-shard key. */
  static int shardOf(String key) {
    return Integer.parseInt(key.substring(key.lastIndexOf('|') + 1), 16);
  }

  /** Window totals: sae|window. */
  static String windowTotals(String saeId, long windowStart) {
    return saeId + "|" + hex(windowStart);
  }

  /** The window part of a window-totals or latent-stats key of {@code saeId}. */
  static long windowOf(String saeId, String key) {
    int from = saeId.length() + 1;
    return unhex(key.substring(from, from + 16));
  }

  /** Top contexts: sae|latent. */
  static String contexts(String saeId, int latent) {
    return saeId + "|" + latent(latent);
  }
}
