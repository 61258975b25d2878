package io.saestream.streams.monitoring;

import io.saestream.schema.v1.FeatureAlert;

/**
 * Told of every alert the monitor forwards to the alerts topic. Called on stream threads, so
 * implementations must be thread-safe and fast. Under exactly-once an alert of an aborted
 * transaction is forwarded again after the retry, with the same alert_id.
 */
@FunctionalInterface
public interface AlertListener {

  /** An alert was forwarded. */
  void onAlert(FeatureAlert alert);
}
