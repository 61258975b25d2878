package io.saestream.streams.monitoring;

import io.saestream.schema.v1.FeatureAlert;
import io.saestream.schema.v1.FeatureBatch;
import io.saestream.schema.v1.ReconstructionStats;
import io.saestream.schema.v1.TokenContext;
import io.saestream.streams.config.MonitoringSettings;
import io.saestream.streams.monitoring.rules.AlertRule;
import io.saestream.streams.monitoring.rules.DriftRule;
import io.saestream.streams.monitoring.rules.LatentRateRule;
import io.saestream.streams.monitoring.rules.LatentThresholdRule;
import io.saestream.streams.monitoring.rules.ProbeRule;
import io.saestream.streams.monitoring.rules.RuleBook;
import io.saestream.streams.monitoring.rules.RuleSet;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.jspecify.annotations.Nullable;

/**
 * Evaluates the alert rules and keeps the latent statistics of each analyzed batch, in tumbling
 * windows of the records' event time (the Kafka record timestamp).
 *
 * <p>Per-sequence rules (threshold, probe) fire as soon as their condition holds, once per (rule,
 * sequence, window). Aggregate rules (rate, drift) are judged when their window closes, that is
 * when this task sees the SAE's first record of a later window; records of a closed window are late
 * and ignored by them. Aggregate rules are evaluated per task (input partition): rates and errors
 * are ratios, which each partition estimates for the whole traffic when sequences are spread
 * evenly; their alert ids carry the partition. All state is in changelogged stores.
 *
 * <p>One instance per task, used by its stream thread only.
 */
final class MonitorProcessor implements Processor<String, AnalyzedBatch, String, FeatureAlert> {

  private final MonitoringSettings settings;
  private final RuleBook rules;
  private final AlertListener listener;
  private final Clock clock;
  private final long statsWindow;
  private @Nullable ProcessorContext<String, FeatureAlert> context;
  private @Nullable KeyValueStore<String, RuleWindow> sequenceWindows;
  private @Nullable KeyValueStore<String, RuleWindow> aggregateWindows;
  private @Nullable KeyValueStore<String, RuleProgress> progress;
  private @Nullable KeyValueStore<String, LatentCell> latentStats;
  private @Nullable KeyValueStore<String, TopContexts> latentContexts;
  private final Map<String, Double> contextFloors = new HashMap<>();
  private long streamTime = Long.MIN_VALUE;
  private long lastCleanupWindow = Long.MIN_VALUE;

  MonitorProcessor(
      MonitoringSettings settings, RuleBook rules, AlertListener listener, Clock clock) {
    this.settings = settings;
    this.rules = rules;
    this.listener = listener;
    this.clock = clock;
    this.statsWindow = settings.statsWindow().toMillis();
  }

  @Override
  public void init(ProcessorContext<String, FeatureAlert> context) {
    this.context = context;
    this.sequenceWindows = context.getStateStore(MonitoringTopology.SEQUENCE_WINDOWS_STORE);
    this.aggregateWindows = context.getStateStore(MonitoringTopology.AGGREGATE_WINDOWS_STORE);
    this.progress = context.getStateStore(MonitoringTopology.RULE_PROGRESS_STORE);
    this.latentStats = context.getStateStore(MonitoringTopology.LATENT_STATS_STORE);
    this.latentContexts = context.getStateStore(MonitoringTopology.LATENT_CONTEXTS_STORE);
  }

  @Override
  public void process(Record<String, AnalyzedBatch> record) {
    if (context == null) {
      throw new IllegalStateException("process() before init()");
    }
    long ts = record.timestamp();
    streamTime = Math.max(streamTime, ts);
    Batch b = new Batch(record.value(), ts, partition());
    RuleSet set = rules.current();
    for (AlertRule rule : set.forSae(b.features.getSaeId())) {
      if (rule instanceof LatentThresholdRule r) {
        threshold(r, b);
      } else if (rule instanceof ProbeRule r) {
        probe(r, b);
      } else if (rule instanceof LatentRateRule r) {
        rate(r, b);
      } else if (rule instanceof DriftRule r) {
        drift(r, b);
      }
    }
    statistics(b);
    cleanup(set);
  }

  // ---- per-sequence rules -------------------------------------------------------------------

  private void threshold(LatentThresholdRule rule, Batch b) {
    long w = MonitorKeys.windowStart(b.timestamp, rule.window().toMillis());
    if (tooLateForSequenceRule(w, rule.window().toMillis())) {
      return;
    }
    String key = MonitorKeys.sequenceWindow(w, rule.ruleId(), b.sequenceId());
    KeyValueStore<String, RuleWindow> store = store(sequenceWindows);
    RuleWindow state = orNew(store.get(key));
    if (state.fired) {
      return;
    }
    int n = b.features.getNTokens();
    int completing = -1;
    for (int t = 0; t < n; t++) {
      float v = b.value(t, rule.latent());
      state.tokens++;
      if (v >= rule.minActivation()) {
        state.hits++;
        state.max = Math.max(state.max, v);
        state.offer(b.context(t, v));
        if (completing < 0 && state.hits >= rule.minTokens()) {
          completing = t;
        }
      }
    }
    if (completing >= 0) {
      state.fired = true;
      emit(
          rule,
          b,
          w,
          List.of(b.sequenceId()),
          rule.latent(),
          state.max,
          rule.minActivation(),
          b.tokenContext(completing));
    }
    store.put(key, state);
  }

  private void probe(ProbeRule rule, Batch b) {
    long w = MonitorKeys.windowStart(b.timestamp, rule.window().toMillis());
    if (tooLateForSequenceRule(w, rule.window().toMillis())) {
      return;
    }
    String key = MonitorKeys.sequenceWindow(w, rule.ruleId(), b.sequenceId());
    KeyValueStore<String, RuleWindow> store = store(sequenceWindows);
    RuleWindow state = orNew(store.get(key));
    if (state.fired) {
      return;
    }
    int n = b.features.getNTokens();
    int firing = -1;
    int strongest = 0;
    double strongestScore = Double.NEGATIVE_INFINITY;
    for (int t = 0; t < n; t++) {
      double score = rule.bias();
      for (Map.Entry<Integer, Double> e : rule.weights().entrySet()) {
        score += e.getValue() * b.value(t, e.getKey());
      }
      state.tokens++;
      state.sum += score;
      state.max = Math.max(state.max, score);
      if (score > strongestScore) {
        strongestScore = score;
        strongest = t;
      }
      if (firing < 0 && rule.mode() == ProbeRule.Mode.TOKEN && score >= rule.threshold()) {
        firing = t;
      }
    }
    double observed = strongestScore;
    if (rule.mode() == ProbeRule.Mode.SEQUENCE_MEAN && state.tokens >= rule.minTokens()) {
      observed = state.sum / state.tokens;
      if (observed >= rule.threshold()) {
        firing = strongest;
      }
    } else if (firing >= 0) {
      double s = rule.bias();
      for (Map.Entry<Integer, Double> e : rule.weights().entrySet()) {
        s += e.getValue() * b.value(firing, e.getKey());
      }
      observed = s;
    }
    if (firing >= 0 && n > 0) {
      state.fired = true;
      emit(
          rule,
          b,
          w,
          List.of(b.sequenceId()),
          null,
          observed,
          rule.threshold(),
          b.tokenContext(firing));
    }
    store.put(key, state);
  }

  private boolean tooLateForSequenceRule(long windowStart, long size) {
    // Window state is kept for one window after the window ends; older records would re-open a
    // deleted window and could alert twice.
    return windowStart + 2 * size <= streamTime;
  }

  // ---- aggregate rules ----------------------------------------------------------------------

  private void rate(LatentRateRule rule, Batch b) {
    long size = rule.window().toMillis();
    long w = MonitorKeys.windowStart(b.timestamp, size);
    RuleProgress p = closeWindowsBefore(rule, w, b);
    if (w <= p.lastClosedStart) {
      return;
    }
    String key = MonitorKeys.aggregateWindow(rule.ruleId(), w);
    KeyValueStore<String, RuleWindow> store = store(aggregateWindows);
    RuleWindow state = orNew(store.get(key));
    int n = b.features.getNTokens();
    for (int t = 0; t < n; t++) {
      float v = b.value(t, rule.latent());
      state.tokens++;
      if (v > 0) {
        state.hits++;
        state.addSequence(b.sequenceId());
        state.offer(b.context(t, v));
      }
    }
    store.put(key, state);
  }

  private void drift(DriftRule rule, Batch b) {
    long size = rule.window().toMillis();
    long w = MonitorKeys.windowStart(b.timestamp, size);
    RuleProgress p = closeWindowsBefore(rule, w, b);
    if (w <= p.lastClosedStart) {
      return;
    }
    String key = MonitorKeys.aggregateWindow(rule.ruleId(), w);
    KeyValueStore<String, RuleWindow> store = store(aggregateWindows);
    RuleWindow state = orNew(store.get(key));
    ReconstructionStats s = b.stats;
    int n = s.getNTokens();
    state.tokens += n;
    if (rule.metric() == DriftRule.Metric.FVU) {
      double fvu = s.getFvu();
      if (Double.isFinite(fvu)) {
        state.hits += n;
        state.sum += fvu * n;
      }
    } else {
      for (Float e : s.getRelativeError()) {
        if (Float.isFinite(e)) {
          state.hits++;
          state.sum += e;
        }
      }
    }
    state.addSequence(b.sequenceId());
    store.put(key, state);
  }

  /** Judges and deletes the rule's open windows that start before {@code w}. */
  private RuleProgress closeWindowsBefore(AlertRule rule, long w, Batch b) {
    KeyValueStore<String, RuleProgress> ps = store(progress);
    RuleProgress p = ps.get(rule.ruleId());
    if (p == null) {
      p = new RuleProgress();
    }
    KeyValueStore<String, RuleWindow> store = store(aggregateWindows);
    List<KeyValue<String, RuleWindow>> closing = new ArrayList<>();
    try (KeyValueIterator<String, RuleWindow> it =
        store.range(rule.ruleId() + "|", MonitorKeys.aggregateWindow(rule.ruleId(), w))) {
      while (it.hasNext()) {
        KeyValue<String, RuleWindow> kv = it.next();
        if (!kv.key.equals(MonitorKeys.aggregateWindow(rule.ruleId(), w))) {
          closing.add(kv);
        }
      }
    }
    if (closing.isEmpty()) {
      return p;
    }
    for (KeyValue<String, RuleWindow> kv : closing) {
      long start = MonitorKeys.unhex(kv.key.substring(rule.ruleId().length() + 1));
      judge(rule, start, kv.value, p, b);
      p.lastClosedStart = Math.max(p.lastClosedStart, start);
      p.windows++;
      store.delete(kv.key);
    }
    ps.put(rule.ruleId(), p);
    return p;
  }

  private void judge(AlertRule rule, long start, RuleWindow state, RuleProgress p, Batch b) {
    if (rule instanceof LatentRateRule r) {
      if (state.tokens == 0) {
        return;
      }
      double rate = (double) state.hits / state.tokens;
      double limit = r.factor() * p.baseline;
      if (p.windows >= r.warmupWindows() && rate > limit && rate > r.minRate()) {
        ContextEntry best = state.best;
        emit(
            rule,
            b,
            start,
            state.sequences,
            r.latent(),
            rate,
            limit,
            best == null ? null : toTokenContext(best));
      }
      p.baseline = p.windows == 0 ? rate : r.ewmaAlpha() * rate + (1 - r.ewmaAlpha()) * p.baseline;
    } else if (rule instanceof DriftRule r) {
      if (state.tokens < r.minTokens() || state.hits == 0) {
        return;
      }
      double error = state.sum / state.hits;
      if (error > r.threshold()) {
        emit(rule, b, start, state.sequences, null, error, r.threshold(), null);
      }
    }
  }

  // ---- statistics ---------------------------------------------------------------------------

  private void statistics(Batch b) {
    FeatureBatch f = b.features;
    String sae = f.getSaeId();
    long w = MonitorKeys.windowStart(b.timestamp, statsWindow);
    if (w + (long) settings.statsRetentionWindows() * statsWindow <= streamTime) {
      return;
    }
    Map<Integer, double[]> perLatent = new HashMap<>();
    Map<Integer, Integer> strongestToken = new HashMap<>();
    int n = f.getNTokens();
    List<Integer> offsets = f.getRowOffsets();
    List<Integer> indices = f.getLatentIndices();
    List<Float> values = f.getLatentValues();
    for (int t = 0; t < n; t++) {
      for (int i = offsets.get(t); i < offsets.get(t + 1); i++) {
        float v = values.get(i);
        if (!(v > 0)) {
          continue;
        }
        int latent = indices.get(i);
        double[] agg = perLatent.computeIfAbsent(latent, k -> new double[3]);
        agg[0]++;
        agg[1] += v;
        if (v > agg[2]) {
          agg[2] = v;
          strongestToken.put(latent, t);
        }
      }
    }
    KeyValueStore<String, LatentCell> stats = store(latentStats);
    String totalsKey = MonitorKeys.latentStats(sae, w, MonitorKeys.TOTALS);
    LatentCell totals = stats.get(totalsKey);
    LatentCell added = new LatentCell(n, 0, f.getDSae());
    stats.put(totalsKey, totals == null ? added : totals.plus(added));
    KeyValueStore<String, TopContexts> contexts = store(latentContexts);
    for (Map.Entry<Integer, double[]> e : perLatent.entrySet()) {
      int latent = e.getKey();
      double[] agg = e.getValue();
      String key = MonitorKeys.latentStats(sae, w, MonitorKeys.latent(latent));
      LatentCell cell = new LatentCell((long) agg[0], agg[1], agg[2]);
      LatentCell old = stats.get(key);
      stats.put(key, old == null ? cell : old.plus(cell));
      String ck = MonitorKeys.contexts(sae, latent);
      Double floor = contextFloors.get(ck);
      if (floor != null && agg[2] <= floor) {
        continue;
      }
      TopContexts top = contexts.get(ck);
      if (top == null) {
        top = new TopContexts(List.of());
      }
      if (agg[2] > top.floor(settings.topContexts())) {
        Integer t = strongestToken.get(latent);
        top = top.with(b.context(t == null ? 0 : t, agg[2]), settings.topContexts());
        contexts.put(ck, top);
      }
      contextFloors.put(ck, top.floor(settings.topContexts()));
    }
  }

  // ---- housekeeping -------------------------------------------------------------------------

  /** Once per statistics window of stream time: drops expired windows and removed rules' state. */
  private void cleanup(RuleSet set) {
    long current = MonitorKeys.windowStart(streamTime, statsWindow);
    if (current == lastCleanupWindow) {
      return;
    }
    lastCleanupWindow = current;
    long statsCutoff = current - (long) (settings.statsRetentionWindows() - 1) * statsWindow;
    deleteWhere(
        store(latentStats),
        key -> {
          String[] parts = key.split("\\|", -1);
          return parts.length == 3 && MonitorKeys.unhex(parts[1]) < statsCutoff;
        });
    deleteWhere(
        store(sequenceWindows),
        key -> {
          String[] parts = key.split("\\|", 3);
          AlertRule rule = parts.length == 3 ? set.get(parts[1]) : null;
          if (rule == null) {
            return true;
          }
          long size = rule.window().toMillis();
          return MonitorKeys.unhex(parts[0]) + 2 * size <= streamTime;
        });
    deleteWhere(
        store(aggregateWindows),
        key -> set.get(key.substring(0, Math.max(0, key.lastIndexOf('|')))) == null);
    deleteWhere(store(progress), key -> set.get(key) == null);
  }

  private static <V> void deleteWhere(
      KeyValueStore<String, V> store, java.util.function.Predicate<String> expired) {
    List<String> doomed = new ArrayList<>();
    try (KeyValueIterator<String, V> it = store.all()) {
      while (it.hasNext()) {
        String key = it.next().key;
        if (expired.test(key)) {
          doomed.add(key);
        }
      }
    }
    doomed.forEach(store::delete);
  }

  // ---- output -------------------------------------------------------------------------------

  private void emit(
      AlertRule rule,
      Batch b,
      long windowStart,
      List<String> sequences,
      @Nullable Integer latent,
      double observed,
      double threshold,
      @Nullable TokenContext tokenContext) {
    ProcessorContext<String, FeatureAlert> c = context;
    if (c == null) {
      throw new IllegalStateException("emit before init()");
    }
    String scope = rule.perSequence() ? b.sequenceId() : "p" + b.partition;
    String alertId = rule.ruleId() + "/" + rule.saeId() + "/" + scope + "/" + windowStart;
    FeatureAlert.Builder builder =
        FeatureAlert.newBuilder()
            .setAlertId(alertId)
            .setRuleId(rule.ruleId())
            .setSeverity(rule.severity())
            .setSaeId(rule.saeId())
            .setSaeVersion(b.features.getSaeVersion())
            .setModelId(b.features.getModelId())
            .setHookName(b.features.getHookName())
            .setSequenceIds(List.copyOf(sequences.isEmpty() ? List.of(b.sequenceId()) : sequences))
            .setWindowStart(java.time.Instant.ofEpochMilli(windowStart))
            .setWindowEnd(java.time.Instant.ofEpochMilli(windowStart + rule.window().toMillis()))
            .setObservedValue(observed)
            .setThreshold(threshold)
            .setCreatedAt(clock.instant());
    // Optional union fields default to null in the builder; only set them when present.
    if (latent != null) {
      builder.setLatentIndex(latent);
    }
    if (tokenContext != null) {
      builder.setTokenContext(tokenContext);
    }
    FeatureAlert alert = builder.build();
    c.forward(
        new Record<>(alertId, alert, Math.max(b.timestamp, windowStart)),
        MonitoringTopology.ALERTS_SINK);
    listener.onAlert(alert);
  }

  private static TokenContext toTokenContext(ContextEntry e) {
    return TokenContext.newBuilder()
        .setSequenceId(e.sequenceId())
        .setPosition(e.position())
        .setTokens(e.tokens())
        .setFocusIndex(Math.max(0, e.focusIndex()))
        .build();
  }

  private int partition() {
    ProcessorContext<String, FeatureAlert> c = context;
    return c == null ? -1 : c.recordMetadata().map(m -> m.partition()).orElse(-1);
  }

  private static RuleWindow orNew(@Nullable RuleWindow w) {
    return w == null ? new RuleWindow() : w;
  }

  private static <V> KeyValueStore<String, V> store(@Nullable KeyValueStore<String, V> s) {
    if (s == null) {
      throw new IllegalStateException("store used before init()");
    }
    return s;
  }

  /** One analyzed batch with a dense view of one latent at a time. */
  private final class Batch {
    final FeatureBatch features;
    final ReconstructionStats stats;
    final @Nullable List<String> tokens;
    final long timestamp;
    final int partition;
    private final List<Integer> offsets;
    private final List<Integer> indices;
    private final List<Float> values;

    Batch(AnalyzedBatch a, long timestamp, int partition) {
      this.features = a.features();
      this.stats = a.stats();
      this.tokens = a.tokens();
      this.timestamp = timestamp;
      this.partition = partition;
      this.offsets = features.getRowOffsets();
      this.indices = features.getLatentIndices();
      this.values = features.getLatentValues();
    }

    String sequenceId() {
      return features.getSequenceId();
    }

    /** Activation of {@code latent} on token {@code t}, 0 when not among the row's slots. */
    float value(int t, int latent) {
      for (int i = offsets.get(t); i < offsets.get(t + 1); i++) {
        if (indices.get(i) == latent) {
          return values.get(i);
        }
      }
      return 0f;
    }

    ContextEntry context(int t, double value) {
      List<String> window = List.of();
      int focus = -1;
      List<String> text = tokens;
      if (text != null) {
        int from = Math.max(0, t - settings.contextTokens());
        int to = Math.min(text.size(), t + settings.contextTokens() + 1);
        List<String> slice = new ArrayList<>(text.subList(from, to));
        if (settings.redactTokens()) {
          slice.replaceAll(s -> MonitoringSettings.REDACTED);
        }
        window = slice;
        focus = t - from;
      }
      return new ContextEntry(
          value,
          sequenceId(),
          (int) Math.min(Integer.MAX_VALUE, features.getStartPosition() + (long) t),
          window,
          focus,
          timestamp);
    }

    @Nullable TokenContext tokenContext(int t) {
      if (tokens == null) {
        return null;
      }
      return toTokenContext(context(t, 0));
    }
  }
}
