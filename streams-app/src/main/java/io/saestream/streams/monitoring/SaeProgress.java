package io.saestream.streams.monitoring;

import java.util.Map;
import java.util.TreeMap;

/**
 * How far the traffic of one SAE has come, per input partition, and the watermark derived from it;
 * plus the start of the last frozen statistics window and of the last retention clean-up. Mutable;
 * owned by the per-SAE monitor of one task between a store read and the store write.
 *
 * <p>The watermark is the smallest of the partitions' largest event times, over the partitions
 * heard from within the idle timeout (wall-clock time): a window of the SAE closes only when every
 * active partition has passed it, so a partition that lags (a task catching up on a backlog) holds
 * the window open instead of having its summaries dropped as late, while a partition without
 * traffic for that SAE stops holding it after the timeout. After a restart every known partition
 * counts as heard from at the restart, so that all of them get the timeout to catch up. The
 * watermark never goes back.
 */
final class SaeProgress {

  /** Per input partition: largest event time and when (wall clock) it was last heard from. */
  public Map<Integer, PartitionClock> partitions = new TreeMap<>();

  /** The watermark so far, or {@link Long#MIN_VALUE}. */
  public long watermark = Long.MIN_VALUE;

  /** Start of the last frozen statistics window, or {@link Long#MIN_VALUE}. */
  public long frozenThrough = Long.MIN_VALUE;

  /** Start of the window whose retention clean-up last ran, or {@link Long#MIN_VALUE}. */
  public long cleanedAt = Long.MIN_VALUE;

  /**
   * Records a summary of {@code partition} at event time {@code timestamp}, heard at {@code now}.
   */
  void observe(int partition, long timestamp, long now) {
    PartitionClock c = partitions.computeIfAbsent(partition, p -> new PartitionClock());
    c.maxTimestamp = Math.max(c.maxTimestamp, timestamp);
    c.lastSeen = Math.max(c.lastSeen, now);
  }

  /**
   * Advances the watermark at wall-clock time {@code now} to the smallest largest event time of the
   * partitions heard from within {@code idleTimeout} ms (counting {@code restartedAt} as heard
   * from), unless it was already further; returns it.
   */
  long advanceWatermark(long now, long idleTimeout, long restartedAt) {
    long min = Long.MAX_VALUE;
    boolean active = false;
    for (PartitionClock c : partitions.values()) {
      if (now - Math.max(c.lastSeen, restartedAt) <= idleTimeout) {
        min = Math.min(min, c.maxTimestamp);
        active = true;
      }
    }
    if (active) {
      watermark = Math.max(watermark, min);
    }
    return watermark;
  }

  /** One partition's clock. */
  static final class PartitionClock {
    /** Largest event time seen. */
    public long maxTimestamp = Long.MIN_VALUE;

    /** Wall-clock time it was last heard from. */
    public long lastSeen = Long.MIN_VALUE;
  }
}
