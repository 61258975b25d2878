package io.saestream.streams.monitoring;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.jspecify.annotations.Nullable;

/**
 * Reads the latent cells of one SAE window as {@link WindowAccumulator} persists them: the {@link
 * LatentShard} snapshots plus the statistics deltas after each shard's through-sequence. Safe
 * against a snapshot running concurrently on the stream thread (which writes the shards, then
 * deletes the deltas they include): the deltas are read first, and a delta is applied to a shard's
 * latents only when the shard read afterwards does not include it yet.
 */
final class WindowCells {

  private WindowCells() {}

  /** Every latent of {@code saeId} that fired in the window starting at {@code w}, by index. */
  static Map<Integer, LatentCell> read(MonitoringStores stores, String saeId, long w) {
    return cells(stores, saeId, w, -1);
  }

  /** The cell of {@code latent} in the window starting at {@code w}, or null if it never fired. */
  static @Nullable LatentCell read(MonitoringStores stores, String saeId, long w, int latent) {
    if (latent < 0) {
      throw new IllegalArgumentException("latent must be >= 0, was " + latent);
    }
    return cells(stores, saeId, w, latent).get(latent);
  }

  /** Cells of the window, of one latent when {@code only} ≥ 0, else of all. */
  private static Map<Integer, LatentCell> cells(
      MonitoringStores stores, String saeId, long w, int only) {
    String from = MonitorKeys.latentStatsFrom(saeId, w);
    String to = MonitorKeys.latentStatsTo(saeId, w);
    ReadOnlyKeyValueStore<String, BatchSummary> deltaStore =
        stores.store(MonitoringTopology.STATS_DELTAS_STORE);
    List<KeyValue<Long, BatchSummary>> deltas = new ArrayList<>();
    try (KeyValueIterator<String, BatchSummary> it = deltaStore.range(from, to)) {
      while (it.hasNext()) {
        KeyValue<String, BatchSummary> kv = it.next();
        deltas.add(KeyValue.pair(MonitorKeys.sequenceOf(kv.key), kv.value));
      }
    }
    ReadOnlyKeyValueStore<String, LatentShard> shardStore =
        stores.store(MonitoringTopology.LATENT_STATS_STORE);
    Map<Integer, LatentCell> cells = new TreeMap<>();
    Map<Integer, Long> through = new HashMap<>();
    if (only >= 0) {
      int shard = LatentShard.shardOf(only);
      LatentShard s = shardStore.get(MonitorKeys.latentShard(saeId, w, shard));
      if (s != null) {
        through.put(shard, s.throughSequence());
        s.forEach(
            (latent, cell) -> {
              if (latent == only) {
                cells.put(latent, cell);
              }
            });
      }
    } else {
      try (KeyValueIterator<String, LatentShard> it = shardStore.range(from, to)) {
        while (it.hasNext()) {
          KeyValue<String, LatentShard> kv = it.next();
          through.put(MonitorKeys.shardOf(kv.key), kv.value.throughSequence());
          kv.value.forEach(cells::put);
        }
      }
    }
    for (KeyValue<Long, BatchSummary> d : deltas) {
      BatchSummary s = d.value;
      if (only >= 0) {
        int i = s.indexOf(only);
        if (i >= 0 && d.key > through.getOrDefault(LatentShard.shardOf(only), -1L)) {
          cells.merge(only, s.cell(i), LatentCell::plus);
        }
        continue;
      }
      for (int i = 0; i < s.size(); i++) {
        int latent = s.latents[i];
        if (d.key > through.getOrDefault(LatentShard.shardOf(latent), -1L)) {
          cells.merge(latent, s.cell(i), LatentCell::plus);
        }
      }
    }
    return cells;
  }
}
