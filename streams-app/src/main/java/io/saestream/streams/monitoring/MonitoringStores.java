package io.saestream.streams.monitoring;

import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Read access to the monitor's key-value stores by name: on a running app, the stores of this
 * instance's active tasks (all partitions, merged); in tests, a TopologyTestDriver's.
 */
@FunctionalInterface
public interface MonitoringStores {

  /**
   * The store {@code name} (one of {@link MonitoringTopology}'s store names) with values of the
   * type that store holds.
   *
   * @throws org.apache.kafka.streams.errors.InvalidStateStoreException when it cannot be queried
   *     now (rebalancing, restoring, not running)
   */
  <V> ReadOnlyKeyValueStore<String, V> store(String name);

  /** The local stores of a running Kafka Streams client, every active partition merged. */
  static MonitoringStores of(KafkaStreams streams) {
    return new MonitoringStores() {
      @Override
      public <V> ReadOnlyKeyValueStore<String, V> store(String name) {
        return streams.store(
            StoreQueryParameters.fromNameAndType(
                name, QueryableStoreTypes.<String, V>keyValueStore()));
      }
    };
  }
}
