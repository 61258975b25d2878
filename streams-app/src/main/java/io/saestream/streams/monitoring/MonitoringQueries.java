package io.saestream.streams.monitoring;

import io.saestream.streams.config.MonitoringSettings;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.jspecify.annotations.Nullable;

/**
 * Answers the questions the HTTP API asks about one SAE from the per-SAE stores ({@link
 * MonitoringStores}): its statistics windows, its top latents in a window, and one latent's
 * windows, activation histogram and top contexts. Reads only local stores, so the caller must ask
 * the instance that owns the SAE's key (or merge nothing: one instance holds all of an SAE). The
 * results are the records the HTTP API writes as JSON (snake_case). Stateless apart from its
 * settings; thread-safe as far as the stores are (Kafka Streams' read-only stores are).
 */
public final class MonitoringQueries {

  private final MonitoringSettings settings;
  private final MonitoringStores stores;

  /** Queries over {@code stores} with {@code settings}' windows and dense threshold. */
  public MonitoringQueries(MonitoringSettings settings, MonitoringStores stores) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.stores = Objects.requireNonNull(stores, "stores");
  }

  /**
   * The newest {@code limit} statistics windows of {@code saeId}, oldest first.
   *
   * @throws org.apache.kafka.streams.errors.InvalidStateStoreException when the stores cannot be
   *     queried now
   */
  public SaeWindows windows(String saeId, int limit) {
    checkLimit("limit", limit);
    List<WindowRow> rows = new ArrayList<>();
    for (KeyValue<Long, WindowTotals> w : newestWindows(saeId, limit)) {
      WindowTotals t = w.value;
      int dense =
          t.isFrozen()
              ? t.denseLatents()
              : denseLatents(
                  WindowCells.read(stores, saeId, w.key), t.tokens(), settings.denseDensity());
      rows.add(
          new WindowRow(
              w.key,
              t.tokens(),
              finiteOrNull(t.fvu()),
              finiteOrNull(t.meanRelativeError()),
              finiteOrNull(t.meanL0()),
              t.firingLatents(),
              Math.max(0, t.dSae() - t.firingLatents()),
              dense));
    }
    return new SaeWindows(saeId, settings.statsWindow().toMillis(), rows);
  }

  /**
   * The {@code limit} latents of {@code saeId} that fired most often in the window starting at
   * {@code windowStart} (null: the newest window), most first, ties by index, each with its
   * strongest context.
   */
  public TopLatents topLatents(String saeId, @Nullable Long windowStart, int limit) {
    checkLimit("limit", limit);
    Long w = windowStart;
    if (w == null) {
      List<KeyValue<Long, WindowTotals>> newest = newestWindows(saeId, 1);
      if (newest.isEmpty()) {
        return new TopLatents(saeId, null, 0, List.of());
      }
      w = newest.get(0).key;
    } else {
      w = MonitorKeys.windowStart(w, settings.statsWindow().toMillis());
    }
    ReadOnlyKeyValueStore<String, WindowTotals> totals =
        stores.store(MonitoringTopology.WINDOW_TOTALS_STORE);
    WindowTotals t = totals.get(MonitorKeys.windowTotals(saeId, w));
    long tokens = t == null ? 0 : t.tokens();
    List<KeyValue<Integer, LatentCell>> cells = new ArrayList<>();
    WindowCells.read(stores, saeId, w).forEach((k, v) -> cells.add(KeyValue.pair(k, v)));
    cells.sort(
        Comparator.comparingLong((KeyValue<Integer, LatentCell> kv) -> kv.value.firings())
            .reversed()
            .thenComparing(kv -> kv.key));
    ReadOnlyKeyValueStore<String, TopContexts> contexts =
        stores.store(MonitoringTopology.LATENT_CONTEXTS_STORE);
    List<LatentRow> rows = new ArrayList<>();
    for (KeyValue<Integer, LatentCell> kv : cells.subList(0, Math.min(limit, cells.size()))) {
      LatentCell c = kv.value;
      TopContexts top = contexts.get(MonitorKeys.contexts(saeId, kv.key));
      rows.add(
          new LatentRow(
              kv.key,
              c.firings(),
              tokens == 0 ? 0 : (double) c.firings() / tokens,
              c.firings() == 0 ? 0 : c.sum() / c.firings(),
              c.max(),
              top == null || top.entries().isEmpty() ? null : view(top.entries().get(0))));
    }
    return new TopLatents(saeId, w, tokens, rows);
  }

  /**
   * Latent {@code latent} of {@code saeId} over the newest {@code windows} windows (oldest first,
   * one row per window of the SAE, zero firings where it did not fire), its activation histogram
   * over those windows and its top contexts.
   */
  public LatentDetail latent(String saeId, int latent, int windows) {
    checkLimit("windows", windows);
    if (latent < 0) {
      throw new IllegalArgumentException("latent must be >= 0, was " + latent);
    }
    List<LatentWindowRow> rows = new ArrayList<>();
    ActivationHistogram histogram = ActivationHistogram.empty();
    for (KeyValue<Long, WindowTotals> w : newestWindows(saeId, windows)) {
      LatentCell c = WindowCells.read(stores, saeId, w.key, latent);
      long tokens = w.value.tokens();
      if (c == null) {
        rows.add(new LatentWindowRow(w.key, tokens, 0, 0, 0, 0));
        continue;
      }
      histogram = histogram.plus(c.histogram());
      rows.add(
          new LatentWindowRow(
              w.key,
              tokens,
              c.firings(),
              tokens == 0 ? 0 : (double) c.firings() / tokens,
              c.firings() == 0 ? 0 : c.sum() / c.firings(),
              c.max()));
    }
    ReadOnlyKeyValueStore<String, TopContexts> contexts =
        stores.store(MonitoringTopology.LATENT_CONTEXTS_STORE);
    TopContexts top = contexts.get(MonitorKeys.contexts(saeId, latent));
    List<ContextView> views = new ArrayList<>();
    if (top != null) {
      top.entries().forEach(e -> views.add(view(e)));
    }
    double[] edges = ActivationHistogram.binEdges();
    return new LatentDetail(
        saeId,
        latent,
        rows,
        new HistogramView(
            Arrays.stream(edges).boxed().toList(),
            Arrays.stream(histogram.counts()).boxed().toList()),
        views);
  }

  /** Latents among {@code cells} whose density over {@code tokens} reaches {@code minDensity}. */
  private static int denseLatents(Map<Integer, LatentCell> cells, long tokens, double minDensity) {
    if (tokens == 0) {
      return 0;
    }
    int dense = 0;
    for (LatentCell c : cells.values()) {
      if ((double) c.firings() / tokens >= minDensity) {
        dense++;
      }
    }
    return dense;
  }

  /** The newest {@code n} windows of {@code saeId} with their totals, oldest first. */
  private List<KeyValue<Long, WindowTotals>> newestWindows(String saeId, int n) {
    ReadOnlyKeyValueStore<String, WindowTotals> totals =
        stores.store(MonitoringTopology.WINDOW_TOTALS_STORE);
    // At most stats-retention-windows entries: a forward scan keeping the last n is cheap.
    ArrayDeque<KeyValue<Long, WindowTotals>> newest = new ArrayDeque<>();
    try (KeyValueIterator<String, WindowTotals> it =
        totals.range(
            MonitorKeys.windowTotals(saeId, Long.MIN_VALUE),
            MonitorKeys.windowTotals(saeId, Long.MAX_VALUE))) {
      while (it.hasNext()) {
        KeyValue<String, WindowTotals> kv = it.next();
        newest.addLast(KeyValue.pair(MonitorKeys.windowOf(saeId, kv.key), kv.value));
        if (newest.size() > n) {
          newest.removeFirst();
        }
      }
    }
    return new ArrayList<>(newest);
  }

  private ContextView view(ContextEntry e) {
    return new ContextView(
        e.sequenceId(),
        e.position(),
        e.value(),
        MonitorKeys.windowStart(e.timestamp(), settings.statsWindow().toMillis()),
        e.tokens(),
        e.focusIndex());
  }

  private static @Nullable Double finiteOrNull(double v) {
    return Double.isFinite(v) ? v : null;
  }

  private static void checkLimit(String name, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be >= 1, was " + value);
    }
  }

  /**
   * The statistics windows of an SAE.
   *
   * @param saeId the SAE
   * @param windowMs the window length
   * @param windows oldest first
   */
  public record SaeWindows(String saeId, long windowMs, List<WindowRow> windows) {
    /** Copies the list. */
    public SaeWindows {
      windows = List.copyOf(windows);
    }
  }

  /**
   * One statistics window of an SAE.
   *
   * @param windowStart start, ms since the epoch
   * @param tokens tokens analyzed
   * @param fvu token-weighted mean batch FVU, null when undefined
   * @param meanRelativeError mean per-token sse / ‖x‖², null without tokens
   * @param meanL0 mean active latents per token, null without tokens
   * @param firingLatents latents that fired
   * @param deadLatents latents that never fired (d_sae − firing)
   * @param denseLatents latents whose density reached {@code monitoring.dense-density}
   */
  public record WindowRow(
      long windowStart,
      long tokens,
      @Nullable Double fvu,
      @Nullable Double meanRelativeError,
      @Nullable Double meanL0,
      int firingLatents,
      int deadLatents,
      int denseLatents) {}

  /**
   * The most frequently firing latents of an SAE in one window.
   *
   * @param saeId the SAE
   * @param windowStart the window, null when the SAE has none yet
   * @param tokens tokens of the window
   * @param latents most firings first
   */
  public record TopLatents(
      String saeId, @Nullable Long windowStart, long tokens, List<LatentRow> latents) {
    /** Copies the list. */
    public TopLatents {
      latents = List.copyOf(latents);
    }
  }

  /**
   * One latent in one window.
   *
   * @param latent index
   * @param firings tokens it fired on
   * @param density firings / tokens
   * @param meanActivation mean activation when firing
   * @param maxActivation largest activation
   * @param topContext its strongest context of all time, or null
   */
  public record LatentRow(
      int latent,
      long firings,
      double density,
      double meanActivation,
      double maxActivation,
      @Nullable ContextView topContext) {}

  /**
   * One latent of an SAE over its recent windows.
   *
   * @param saeId the SAE
   * @param latent index
   * @param windows oldest first
   * @param histogram its activations (when firing) over those windows
   * @param contexts its strongest contexts, strongest first
   */
  public record LatentDetail(
      String saeId,
      int latent,
      List<LatentWindowRow> windows,
      HistogramView histogram,
      List<ContextView> contexts) {
    /** Copies the lists. */
    public LatentDetail {
      windows = List.copyOf(windows);
      contexts = List.copyOf(contexts);
    }
  }

  /**
   * One latent in one window.
   *
   * @param windowStart start, ms since the epoch
   * @param tokens tokens of the window
   * @param firings tokens it fired on
   * @param density firings / tokens
   * @param meanActivation mean activation when firing
   * @param maxActivation largest activation
   */
  public record LatentWindowRow(
      long windowStart,
      long tokens,
      long firings,
      double density,
      double meanActivation,
      double maxActivation) {}

  /**
   * A histogram: bin i counts values in [edges[i], edges[i+1]) ({@link ActivationHistogram}).
   *
   * @param edges ascending, one more than counts
   * @param counts per bin
   */
  public record HistogramView(List<Double> edges, List<Long> counts) {
    /** Copies the lists. */
    public HistogramView {
      edges = List.copyOf(edges);
      counts = List.copyOf(counts);
    }
  }

  /**
   * A context where a latent fired.
   *
   * @param sequenceId the sequence
   * @param position token position in the sequence
   * @param activation the latent's activation there
   * @param windowStart statistics window of the batch
   * @param tokens text around the token (empty when the producer sent none)
   * @param highlight index of the firing token in {@code tokens}, −1 without text
   */
  public record ContextView(
      String sequenceId,
      int position,
      double activation,
      long windowStart,
      List<String> tokens,
      int highlight) {
    /** Copies the tokens. */
    public ContextView {
      tokens = List.copyOf(tokens);
    }
  }
}
