package io.saestream.streams.monitoring;

import io.saestream.schema.v1.FeatureAlert;
import io.saestream.streams.config.MonitoringSettings;
import io.saestream.streams.monitoring.rules.AlertRule;
import io.saestream.streams.monitoring.rules.DriftRule;
import io.saestream.streams.monitoring.rules.LatentRateRule;
import io.saestream.streams.monitoring.rules.RuleBook;
import io.saestream.streams.monitoring.rules.RuleSet;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.jspecify.annotations.Nullable;

/**
 * The per-SAE half of monitoring, on the task that owns the SAE's partition of the aggregates topic
 * (keyed by sae_id, so every summary of one SAE comes here whichever input partition it came
 * through): keeps the SAE's latent statistics, window totals and top contexts, and evaluates its
 * rate and drift rules over all of its traffic. Alerts of those rules are therefore global per SAE
 * and window, and a query about an SAE is answered by the one instance that owns its key.
 *
 * <p>Windows are tumbling windows of event time (the summaries' timestamps, those of the input
 * records). Summaries of several input partitions interleave, so a window stays open until the
 * SAE's stream time (largest event time seen) passes its end plus {@code monitoring.window-grace};
 * then a rate or drift window is judged and a statistics window frozen (its dense latents counted).
 * Later summaries of a closed window are late: rules and statistics ignore them (top contexts,
 * which are not windowed, still take their candidates). All state is in changelogged stores.
 *
 * <p>One instance per task, used by its stream thread only.
 */
final class SaeMonitorProcessor implements Processor<String, BatchSummary, String, FeatureAlert> {

  /**
   * Statistics deltas a window takes between snapshots: bounds what a restart or a query folds
   * (about 3 MB of deltas for 256-token batches of a 16k-latent SAE) while a snapshot (every shard
   * of the window) is written once per that many summaries.
   */
  static final int SNAPSHOT_EVERY = 64;

  private final MonitoringSettings settings;
  private final RuleBook rules;
  private final AlertListener listener;
  private final Clock clock;
  private final long statsWindow;
  private final long grace;
  private final long idleTimeout;
  private @Nullable ProcessorContext<String, FeatureAlert> context;
  private @Nullable KeyValueStore<String, RuleWindow> aggregateWindows;
  private @Nullable KeyValueStore<String, RuleProgress> progress;
  private @Nullable KeyValueStore<String, LatentShard> latentStats;
  private @Nullable KeyValueStore<String, BatchSummary> statsDeltas;
  private @Nullable KeyValueStore<String, TopContexts> latentContexts;
  private @Nullable KeyValueStore<String, WindowTotals> windowTotals;
  private @Nullable KeyValueStore<String, SaeProgress> saeProgress;
  private final Map<String, Double> contextFloors = new HashMap<>();

  /** The statistics of windows taking summaries, by window-totals key (sae|window). */
  private final Map<String, WindowAccumulator> accumulators = new HashMap<>();

  private long recordTimestamp;
  private long initializedAt;

  SaeMonitorProcessor(
      MonitoringSettings settings, RuleBook rules, AlertListener listener, Clock clock) {
    this.settings = settings;
    this.rules = rules;
    this.listener = listener;
    this.clock = clock;
    this.statsWindow = settings.statsWindow().toMillis();
    this.grace = settings.windowGrace().toMillis();
    this.idleTimeout = settings.idlePartitionTimeout().toMillis();
  }

  @Override
  public void init(ProcessorContext<String, FeatureAlert> context) {
    this.context = context;
    this.aggregateWindows = context.getStateStore(MonitoringTopology.AGGREGATE_WINDOWS_STORE);
    this.progress = context.getStateStore(MonitoringTopology.RULE_PROGRESS_STORE);
    this.latentStats = context.getStateStore(MonitoringTopology.LATENT_STATS_STORE);
    this.statsDeltas = context.getStateStore(MonitoringTopology.STATS_DELTAS_STORE);
    this.latentContexts = context.getStateStore(MonitoringTopology.LATENT_CONTEXTS_STORE);
    this.windowTotals = context.getStateStore(MonitoringTopology.WINDOW_TOTALS_STORE);
    this.saeProgress = context.getStateStore(MonitoringTopology.SAE_PROGRESS_STORE);
    // A task revived after an aborted transaction starts over from its restored stores.
    contextFloors.clear();
    accumulators.clear();
    initializedAt = context.currentSystemTimeMs();
  }

  @Override
  public void process(Record<String, BatchSummary> record) {
    ProcessorContext<String, FeatureAlert> c = context;
    if (c == null) {
      throw new IllegalStateException("process() before init()");
    }
    BatchSummary s = record.value();
    long ts = record.timestamp();
    recordTimestamp = ts;
    KeyValueStore<String, SaeProgress> sps = store(saeProgress);
    SaeProgress sp = sps.get(s.saeId);
    if (sp == null) {
      sp = new SaeProgress();
    }
    long now = c.currentSystemTimeMs();
    sp.observe(s.sourcePartition, ts, now);
    long watermark = sp.advanceWatermark(now, idleTimeout, initializedAt);
    statistics(s, ts, watermark);
    freezeStatisticsWindows(s.saeId, sp, watermark);
    contexts(s);
    RuleSet set = rules.current();
    for (AlertRule rule : set.forSae(s.saeId)) {
      if (rule instanceof LatentRateRule || rule instanceof DriftRule) {
        aggregate(rule, s, ts, watermark);
      }
    }
    cleanup(set, s.saeId, sp, watermark);
    sps.put(s.saeId, sp);
  }

  // ---- statistics ---------------------------------------------------------------------------

  /**
   * Adds the summary to its statistics window, however late, as long as the window is retained (a
   * late batch was still analyzed); a frozen window is thawed so that its dense count is redone.
   * The window's accumulator takes the latents; the store gets one delta (see {@link
   * WindowAccumulator}), and a snapshot every {@value #SNAPSHOT_EVERY} deltas.
   */
  private void statistics(BatchSummary s, long ts, long watermark) {
    long w = MonitorKeys.windowStart(ts, statsWindow);
    if (w < retentionCutoff(watermark)) {
      return;
    }
    WindowAccumulator acc = accumulator(s.saeId, w);
    int newLatents = acc.fold(s);
    store(statsDeltas).put(MonitorKeys.delta(s.saeId, w, acc.nextSequence), s);
    acc.nextSequence++;
    acc.pending++;
    if (acc.pending >= SNAPSHOT_EVERY) {
      snapshot(s.saeId, w, acc);
    }
    KeyValueStore<String, WindowTotals> totals = store(windowTotals);
    String key = MonitorKeys.windowTotals(s.saeId, w);
    WindowTotals t = totals.get(key);
    totals.put(key, (t == null ? WindowTotals.empty() : t).plus(s, newLatents).thawed());
  }

  /** The accumulator of a window, loaded from the stores when not on the heap. */
  private WindowAccumulator accumulator(String saeId, long w) {
    return accumulators.computeIfAbsent(
        MonitorKeys.windowTotals(saeId, w),
        k ->
            WindowAccumulator.load(
                store(latentStats),
                store(statsDeltas),
                MonitorKeys.latentStatsFrom(saeId, w),
                MonitorKeys.latentStatsTo(saeId, w)));
  }

  /** Writes the window's shards and deletes the deltas they now include. */
  private void snapshot(String saeId, long w, WindowAccumulator acc) {
    if (acc.pending == 0) {
      return;
    }
    KeyValueStore<String, LatentShard> shards = store(latentStats);
    for (KeyValue<Integer, LatentShard> kv : acc.shards()) {
      shards.put(MonitorKeys.latentShard(saeId, w, kv.key), kv.value);
    }
    deleteRange(
        store(statsDeltas),
        MonitorKeys.latentStatsFrom(saeId, w),
        MonitorKeys.latentStatsTo(saeId, w),
        k -> true);
    acc.pending = 0;
  }

  /**
   * Once the watermark passes a new window end plus the grace: counts the dense latents of every
   * window up to there that is not frozen (new ones, and older ones a late summary thawed), writes
   * its final snapshot and lets its accumulator go.
   */
  private void freezeStatisticsWindows(String saeId, SaeProgress sp, long watermark) {
    if (watermark == Long.MIN_VALUE) {
      return;
    }
    long last = MonitorKeys.windowStart(watermark - statsWindow - grace, statsWindow);
    if (last <= sp.frozenThrough) {
      return;
    }
    KeyValueStore<String, WindowTotals> totals = store(windowTotals);
    List<KeyValue<String, WindowTotals>> open = new ArrayList<>();
    try (KeyValueIterator<String, WindowTotals> it =
        totals.range(
            MonitorKeys.windowTotals(saeId, Long.MIN_VALUE),
            MonitorKeys.windowTotals(saeId, last))) {
      while (it.hasNext()) {
        KeyValue<String, WindowTotals> kv = it.next();
        if (!kv.value.isFrozen()) {
          open.add(kv);
        }
      }
    }
    for (KeyValue<String, WindowTotals> kv : open) {
      long w = MonitorKeys.windowOf(saeId, kv.key);
      WindowAccumulator acc = accumulator(saeId, w);
      totals.put(kv.key, kv.value.frozen(acc.dense(kv.value.tokens(), settings.denseDensity())));
      snapshot(saeId, w, acc);
      accumulators.remove(kv.key);
    }
    sp.frozenThrough = last;
  }

  /** Start of the oldest statistics window retained at {@code watermark}. */
  private long retentionCutoff(long watermark) {
    if (watermark == Long.MIN_VALUE) {
      return Long.MIN_VALUE;
    }
    return MonitorKeys.windowStart(watermark, statsWindow)
        - (long) (settings.statsRetentionWindows() - 1) * statsWindow;
  }

  private void contexts(BatchSummary s) {
    KeyValueStore<String, TopContexts> contexts = store(latentContexts);
    int limit = settings.topContexts();
    for (BatchSummary.LatentContext c : s.contexts) {
      String key = MonitorKeys.contexts(s.saeId, c.latent());
      double value = c.entry().value();
      Double floor = contextFloors.get(key);
      if (floor != null && value <= floor) {
        continue;
      }
      TopContexts top = contexts.get(key);
      if (top == null) {
        top = new TopContexts(List.of());
      }
      if (value > top.floor(limit)) {
        top = top.with(c.entry(), limit);
        contexts.put(key, top);
      }
      contextFloors.put(key, top.floor(limit));
    }
  }

  // ---- rate and drift -----------------------------------------------------------------------

  private void aggregate(AlertRule rule, BatchSummary s, long ts, long watermark) {
    long size = rule.window().toMillis();
    KeyValueStore<String, RuleProgress> ps = store(progress);
    RuleProgress p = ps.get(rule.ruleId());
    if (p == null) {
      p = new RuleProgress();
    }
    closeWindows(rule, p, s, watermark);
    long w = MonitorKeys.windowStart(ts, size);
    if (w <= p.lastClosedStart || w + size + grace <= watermark) {
      // Late: its window was judged, or would have been had it had any traffic.
      ps.put(rule.ruleId(), p);
      return;
    }
    String key = MonitorKeys.aggregateWindow(rule.ruleId(), w);
    KeyValueStore<String, RuleWindow> store = store(aggregateWindows);
    RuleWindow state = store.get(key);
    if (state == null) {
      state = new RuleWindow();
    }
    state.saeVersion = Math.max(state.saeVersion, s.saeVersion);
    state.tokens += s.nTokens;
    if (rule instanceof LatentRateRule r) {
      int i = s.indexOf(r.latent());
      if (i >= 0) {
        state.hits += s.firings[i];
        state.addSequence(s.sequenceId);
        ContextEntry candidate = s.context(r.latent());
        if (candidate != null) {
          state.offer(candidate);
        }
      }
    } else if (rule instanceof DriftRule r) {
      if (r.metric() == DriftRule.Metric.FVU) {
        if (Double.isFinite(s.fvu)) {
          state.hits += s.nTokens;
          state.sum += s.fvu * s.nTokens;
        }
      } else {
        state.hits += s.relativeErrorCount;
        state.sum += s.relativeErrorSum;
      }
      state.addSequence(s.sequenceId);
    }
    store.put(key, state);
    ps.put(rule.ruleId(), p);
  }

  /** Judges and deletes the rule's open windows whose end plus the grace the watermark passed. */
  private void closeWindows(AlertRule rule, RuleProgress p, BatchSummary s, long watermark) {
    if (watermark == Long.MIN_VALUE) {
      return;
    }
    long last = watermark - rule.window().toMillis() - grace;
    KeyValueStore<String, RuleWindow> store = store(aggregateWindows);
    List<KeyValue<String, RuleWindow>> closing = new ArrayList<>();
    try (KeyValueIterator<String, RuleWindow> it =
        store.range(rule.ruleId() + "|", MonitorKeys.aggregateWindow(rule.ruleId(), last))) {
      while (it.hasNext()) {
        closing.add(it.next());
      }
    }
    for (KeyValue<String, RuleWindow> kv : closing) {
      long start = MonitorKeys.unhex(kv.key.substring(rule.ruleId().length() + 1));
      judge(rule, start, kv.value, p, s);
      p.lastClosedStart = Math.max(p.lastClosedStart, start);
      p.windows++;
      store.delete(kv.key);
    }
  }

  private void judge(AlertRule rule, long start, RuleWindow state, RuleProgress p, BatchSummary s) {
    if (rule instanceof LatentRateRule r) {
      if (state.tokens == 0) {
        return;
      }
      double rate = (double) state.hits / state.tokens;
      double limit = r.factor() * p.baseline;
      if (p.windows >= r.warmupWindows() && rate > limit && rate > r.minRate()) {
        ContextEntry best = state.best;
        // Without token text there is no context to show (FeatureAlert.token_context is null).
        emit(
            rule,
            start,
            state,
            s,
            r.latent(),
            rate,
            limit,
            best == null || best.focusIndex() < 0 ? null : FeatureAlerts.toTokenContext(best));
      }
      p.baseline = p.windows == 0 ? rate : r.ewmaAlpha() * rate + (1 - r.ewmaAlpha()) * p.baseline;
    } else if (rule instanceof DriftRule r) {
      if (state.tokens < r.minTokens() || state.hits == 0) {
        return;
      }
      double error = state.sum / state.hits;
      if (error > r.threshold()) {
        emit(rule, start, state, s, null, error, r.threshold(), null);
      }
    }
  }

  private void emit(
      AlertRule rule,
      long windowStart,
      RuleWindow state,
      BatchSummary s,
      @Nullable Integer latent,
      double observed,
      double threshold,
      io.saestream.schema.v1.@Nullable TokenContext tokenContext) {
    ProcessorContext<String, FeatureAlert> c = context;
    if (c == null) {
      throw new IllegalStateException("emit before init()");
    }
    FeatureAlert alert =
        FeatureAlerts.build(
            rule,
            FeatureAlerts.saeAlertId(rule, windowStart),
            state.saeVersion,
            s.modelId,
            s.hookName,
            state.sequences.isEmpty() ? List.of(s.sequenceId) : state.sequences,
            windowStart,
            latent,
            observed,
            threshold,
            tokenContext,
            clock.instant());
    c.forward(
        new Record<>(alert.getAlertId(), alert, Math.max(recordTimestamp, windowStart)),
        MonitoringTopology.SAE_ALERTS_SINK);
    listener.onAlert(alert);
  }

  // ---- housekeeping -------------------------------------------------------------------------

  /**
   * Once per statistics window of the SAE's watermark: drops its windows older than the retention,
   * and the state of removed rules.
   */
  private void cleanup(RuleSet set, String saeId, SaeProgress sp, long watermark) {
    long current = MonitorKeys.windowStart(watermark, statsWindow);
    if (watermark == Long.MIN_VALUE || current == sp.cleanedAt) {
      return;
    }
    sp.cleanedAt = current;
    long cutoff = retentionCutoff(watermark);
    deleteRange(
        store(latentStats), saeId + "|", MonitorKeys.latentStatsFrom(saeId, cutoff), k -> true);
    deleteRange(
        store(statsDeltas), saeId + "|", MonitorKeys.latentStatsFrom(saeId, cutoff), k -> true);
    accumulators
        .keySet()
        .removeIf(k -> k.startsWith(saeId + "|") && MonitorKeys.windowOf(saeId, k) < cutoff);
    deleteRange(
        store(windowTotals), saeId + "|", MonitorKeys.windowTotals(saeId, cutoff - 1), k -> true);
    deleteAll(
        store(aggregateWindows),
        key -> set.get(key.substring(0, Math.max(0, key.lastIndexOf('|')))) == null);
    deleteAll(store(progress), key -> set.get(key) == null);
  }

  private static <V> void deleteRange(
      KeyValueStore<String, V> store, String from, String to, Predicate<String> doomed) {
    if (from.compareTo(to) > 0) {
      return;
    }
    List<String> keys = new ArrayList<>();
    try (KeyValueIterator<String, V> it = store.range(from, to)) {
      while (it.hasNext()) {
        String key = it.next().key;
        if (doomed.test(key)) {
          keys.add(key);
        }
      }
    }
    keys.forEach(store::delete);
  }

  private static <V> void deleteAll(KeyValueStore<String, V> store, Predicate<String> doomed) {
    List<String> keys = new ArrayList<>();
    try (KeyValueIterator<String, V> it = store.all()) {
      while (it.hasNext()) {
        String key = it.next().key;
        if (doomed.test(key)) {
          keys.add(key);
        }
      }
    }
    keys.forEach(store::delete);
  }

  private static <V> KeyValueStore<String, V> store(@Nullable KeyValueStore<String, V> s) {
    if (s == null) {
      throw new IllegalStateException("store used before init()");
    }
    return s;
  }
}
