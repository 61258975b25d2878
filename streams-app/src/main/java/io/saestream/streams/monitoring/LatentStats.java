package io.saestream.streams.monitoring;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Latent statistics of one SAE over a range of windows, read from the {@link
 * MonitoringTopology#LATENT_STATS_STORE} and {@link MonitoringTopology#WINDOW_TOTALS_STORE} of the
 * task that owns the SAE (or merged from several with {@link #merge}).
 *
 * @param saeId the SAE
 * @param fromWindow start of the first window included, ms since the epoch
 * @param toWindow start of the last window included
 * @param tokens tokens analyzed in those windows
 * @param dSae the SAE's width (0 when no batch was seen)
 * @param latents per latent that fired: its cell, by latent index
 */
public record LatentStats(
    String saeId,
    long fromWindow,
    long toWindow,
    long tokens,
    int dSae,
    Map<Integer, LatentCell> latents) {

  private static final LatentCell EMPTY = new LatentCell(0, 0, 0, ActivationHistogram.empty());

  /** Copies the map. */
  public LatentStats {
    Objects.requireNonNull(saeId, "saeId");
    latents = Map.copyOf(new TreeMap<>(latents));
  }

  /** Reads the windows of {@code saeId} starting in [fromWindow, toWindow] from {@code stores}. */
  public static LatentStats read(
      MonitoringStores stores, String saeId, long fromWindow, long toWindow) {
    long tokens = 0;
    int dSae = 0;
    List<Long> windows = new ArrayList<>();
    ReadOnlyKeyValueStore<String, WindowTotals> totals =
        stores.store(MonitoringTopology.WINDOW_TOTALS_STORE);
    try (KeyValueIterator<String, WindowTotals> it =
        totals.range(
            MonitorKeys.windowTotals(saeId, fromWindow),
            MonitorKeys.windowTotals(saeId, toWindow))) {
      while (it.hasNext()) {
        KeyValue<String, WindowTotals> kv = it.next();
        WindowTotals t = kv.value;
        windows.add(MonitorKeys.windowOf(saeId, kv.key));
        tokens += t.tokens();
        dSae = Math.max(dSae, t.dSae());
      }
    }
    Map<Integer, LatentCell> latents = new TreeMap<>();
    for (long w : windows) {
      WindowCells.read(stores, saeId, w).forEach((k, v) -> latents.merge(k, v, LatentCell::plus));
    }
    return new LatentStats(saeId, fromWindow, toWindow, tokens, dSae, latents);
  }

  /** These statistics plus those of another task or instance over the same windows. */
  public LatentStats merge(LatentStats other) {
    Map<Integer, LatentCell> all = new TreeMap<>(latents);
    other.latents.forEach((k, v) -> all.merge(k, v, LatentCell::plus));
    return new LatentStats(
        saeId, fromWindow, toWindow, tokens + other.tokens, Math.max(dSae, other.dSae), all);
  }

  /** Firings / tokens of {@code latent}; 0 when no tokens were seen. */
  public double density(int latent) {
    LatentCell c = latents.get(latent);
    return c == null || tokens == 0 ? 0 : (double) c.firings() / tokens;
  }

  /** Mean activation of {@code latent} over the tokens it fired on; 0 when it never fired. */
  public double meanActivation(int latent) {
    LatentCell c = latents.get(latent);
    return c == null || c.firings() == 0 ? 0 : c.sum() / c.firings();
  }

  /** Latents in [0, d_sae) that never fired in these windows. */
  public List<Integer> deadLatents() {
    List<Integer> dead = new ArrayList<>();
    for (int j = 0; j < dSae; j++) {
      if (!latents.containsKey(j)) {
        dead.add(j);
      }
    }
    return dead;
  }

  /** Latents whose density is at least {@code minDensity}, densest first. */
  public List<Integer> denseLatents(double minDensity) {
    List<Integer> dense = new ArrayList<>();
    for (int j : latents.keySet()) {
      if (density(j) >= minDensity) {
        dense.add(j);
      }
    }
    dense.sort(Comparator.comparingDouble((Integer j) -> density(j)).reversed());
    return dense;
  }

  /** The {@code n} latents that fired most often, most first (ties by index). */
  public List<Integer> topFiring(int n) {
    List<Integer> all = new ArrayList<>(latents.keySet());
    all.sort(
        Comparator.comparingLong((Integer j) -> latents.getOrDefault(j, EMPTY).firings())
            .reversed()
            .thenComparing(Comparator.naturalOrder()));
    return List.copyOf(all.subList(0, Math.min(n, all.size())));
  }

  /** The start of the window holding {@code timestamp} for windows of {@code size} ms. */
  public static long windowStart(long timestamp, long size) {
    return MonitorKeys.windowStart(timestamp, size);
  }

  /** The top contexts of {@code latent}, from {@link MonitoringTopology#LATENT_CONTEXTS_STORE}. */
  public static TopContexts contexts(MonitoringStores stores, String saeId, int latent) {
    ReadOnlyKeyValueStore<String, TopContexts> store =
        stores.store(MonitoringTopology.LATENT_CONTEXTS_STORE);
    TopContexts t = store.get(MonitorKeys.contexts(saeId, latent));
    return t == null ? new TopContexts(List.of()) : t;
  }
}
