package io.saestream.streams.monitoring;

import io.saestream.schema.v1.FeatureAlert;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The most recent alerts of this instance, for the alert feed; newest first, deduplicated by
 * alert_id (a retried transaction forwards the same alert again). Thread-safe.
 */
public final class RecentAlerts implements AlertListener {

  private final int capacity;
  private final Deque<FeatureAlert> alerts = new ArrayDeque<>();
  private final Set<String> ids = new HashSet<>();
  private long total;

  /** Keeps at most {@code capacity} alerts. */
  public RecentAlerts(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be >= 1, was " + capacity);
    }
    this.capacity = capacity;
  }

  @Override
  public synchronized void onAlert(FeatureAlert alert) {
    if (!ids.add(alert.getAlertId())) {
      return;
    }
    total++;
    alerts.addFirst(alert);
    while (alerts.size() > capacity) {
      ids.remove(alerts.removeLast().getAlertId());
    }
  }

  /** Up to {@code limit} alerts, newest first. */
  public synchronized List<FeatureAlert> recent(int limit) {
    List<FeatureAlert> out = new ArrayList<>(Math.min(limit, alerts.size()));
    for (FeatureAlert a : alerts) {
      if (out.size() >= limit) {
        break;
      }
      out.add(a);
    }
    return out;
  }

  /** Distinct alerts seen since start. */
  public synchronized long total() {
    return total;
  }
}
