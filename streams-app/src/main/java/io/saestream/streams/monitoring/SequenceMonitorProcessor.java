package io.saestream.streams.monitoring;

import io.saestream.schema.v1.FeatureAlert;
import io.saestream.schema.v1.TokenContext;
import io.saestream.streams.config.MonitoringSettings;
import io.saestream.streams.monitoring.rules.AlertRule;
import io.saestream.streams.monitoring.rules.LatentRateRule;
import io.saestream.streams.monitoring.rules.LatentThresholdRule;
import io.saestream.streams.monitoring.rules.ProbeRule;
import io.saestream.streams.monitoring.rules.RuleBook;
import io.saestream.streams.monitoring.rules.RuleSet;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.jspecify.annotations.Nullable;

/**
 * The per-sequence half of monitoring, on the task of the input partition: evaluates the rules that
 * look at one sequence (latent threshold, probe) and sends a {@link BatchSummary} of every analyzed
 * batch, keyed by sae_id, to the aggregates topic, where {@link SaeMonitorProcessor} keeps the
 * per-SAE statistics and rules.
 *
 * <p>Per-sequence rules fire as soon as their condition holds, once per (rule, sequence, window) of
 * event time (the Kafka record timestamp). Their state is in the changelogged {@link
 * MonitoringTopology#SEQUENCE_WINDOWS_STORE}.
 *
 * <p>Context capture stays here, where the token text is: a summary carries candidate contexts
 * chosen by {@link BatchSummarizer}.
 *
 * <p>One instance per task, used by its stream thread only.
 */
final class SequenceMonitorProcessor implements Processor<String, AnalyzedBatch, String, Object> {

  private final MonitoringSettings settings;
  private final RuleBook rules;
  private final AlertListener listener;
  private final Clock clock;
  private @Nullable ProcessorContext<String, Object> context;
  private @Nullable KeyValueStore<String, RuleWindow> sequenceWindows;
  private final BatchSummarizer summarizer;
  private long streamTime = Long.MIN_VALUE;
  private long lastCleanupWindow = Long.MIN_VALUE;

  SequenceMonitorProcessor(
      MonitoringSettings settings, RuleBook rules, AlertListener listener, Clock clock) {
    this.settings = settings;
    this.rules = rules;
    this.listener = listener;
    this.clock = clock;
    this.summarizer = new BatchSummarizer(settings.topContexts());
  }

  @Override
  public void init(ProcessorContext<String, Object> context) {
    this.context = context;
    this.sequenceWindows = context.getStateStore(MonitoringTopology.SEQUENCE_WINDOWS_STORE);
    // A task revived after an aborted transaction starts over from its restored stores.
    summarizer.reset();
    streamTime = Long.MIN_VALUE;
    lastCleanupWindow = Long.MIN_VALUE;
  }

  @Override
  public void process(Record<String, AnalyzedBatch> record) {
    ProcessorContext<String, Object> c = context;
    if (c == null) {
      throw new IllegalStateException("process() before init()");
    }
    long ts = record.timestamp();
    streamTime = Math.max(streamTime, ts);
    BatchView b = new BatchView(record.value(), ts, settings);
    RuleSet set = rules.current();
    Set<Integer> rateLatents = new HashSet<>();
    for (AlertRule rule : set.forSae(b.features.getSaeId())) {
      if (rule instanceof LatentThresholdRule r) {
        threshold(r, b);
      } else if (rule instanceof ProbeRule r) {
        probe(r, b);
      } else if (rule instanceof LatentRateRule r) {
        rateLatents.add(r.latent());
      }
    }
    BatchSummary summary = summarizer.summarize(b, rateLatents);
    c.forward(
        new Record<String, Object>(b.features.getSaeId(), summary, ts),
        MonitoringTopology.AGGREGATES_SINK);
    cleanup(set);
  }

  // ---- per-sequence rules -------------------------------------------------------------------

  private void threshold(LatentThresholdRule rule, BatchView b) {
    OpenWindow window = openWindow(rule, b);
    if (window == null) {
      return;
    }
    RuleWindow state = window.state();
    int n = b.features.getNTokens();
    int completing = -1;
    int strongest = -1;
    float strongestValue = Float.NEGATIVE_INFINITY;
    for (int t = 0; t < n; t++) {
      float v = b.value(t, rule.latent());
      state.tokens++;
      if (v >= rule.minActivation()) {
        state.hits++;
        state.max = Math.max(state.max, v);
        if (v > strongestValue) {
          strongest = t;
          strongestValue = v;
        }
        if (completing < 0 && state.hits >= rule.minTokens()) {
          completing = t;
        }
      }
    }
    if (strongest >= 0) {
      // One context per batch, of its strongest hit: the window keeps only the strongest anyway.
      state.offer(b.context(strongest, strongestValue));
    }
    if (completing >= 0) {
      state.fired = true;
      emit(
          rule,
          b,
          window.start(),
          rule.latent(),
          state.max,
          rule.minActivation(),
          b.tokenContext(completing));
    }
    store(sequenceWindows).put(window.key(), state);
  }

  private void probe(ProbeRule rule, BatchView b) {
    OpenWindow window = openWindow(rule, b);
    if (window == null) {
      return;
    }
    RuleWindow state = window.state();
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
      emit(rule, b, window.start(), null, observed, rule.threshold(), b.tokenContext(firing));
    }
    store(sequenceWindows).put(window.key(), state);
  }

  /** A per-sequence rule's window state, between its read and its write. */
  private record OpenWindow(long start, String key, RuleWindow state) {}

  /**
   * The state of {@code rule} for batch {@code b}'s sequence in the window holding the batch, or
   * null when that window is too late to take it or its alert was already emitted.
   */
  private @Nullable OpenWindow openWindow(AlertRule rule, BatchView b) {
    long size = rule.window().toMillis();
    long w = MonitorKeys.windowStart(b.timestamp, size);
    if (tooLateForSequenceRule(w, size)) {
      return null;
    }
    String key = MonitorKeys.sequenceWindow(w, rule.ruleId(), b.sequenceId());
    RuleWindow state = orNew(store(sequenceWindows).get(key));
    return state.fired ? null : new OpenWindow(w, key, state);
  }

  private boolean tooLateForSequenceRule(long windowStart, long size) {
    // Window state is kept for one window after the window ends; older records would re-open a
    // deleted window and could alert twice.
    return windowStart + 2 * size <= streamTime;
  }

  // ---- housekeeping -------------------------------------------------------------------------

  /** Once per statistics window of stream time: drops expired windows and removed rules' state. */
  private void cleanup(RuleSet set) {
    long current = MonitorKeys.windowStart(streamTime, settings.statsWindow().toMillis());
    if (current == lastCleanupWindow) {
      return;
    }
    lastCleanupWindow = current;
    KeyValueStore<String, RuleWindow> store = store(sequenceWindows);
    List<String> doomed = new ArrayList<>();
    try (KeyValueIterator<String, RuleWindow> it = store.all()) {
      while (it.hasNext()) {
        String key = it.next().key;
        String[] parts = key.split("\\|", 3);
        AlertRule rule = parts.length == 3 ? set.get(parts[1]) : null;
        if (rule == null
            || MonitorKeys.unhex(parts[0]) + 2 * rule.window().toMillis() <= streamTime) {
          doomed.add(key);
        }
      }
    }
    doomed.forEach(store::delete);
  }

  // ---- output -------------------------------------------------------------------------------

  private void emit(
      AlertRule rule,
      BatchView b,
      long windowStart,
      @Nullable Integer latent,
      double observed,
      double threshold,
      @Nullable TokenContext tokenContext) {
    ProcessorContext<String, Object> c = context;
    if (c == null) {
      throw new IllegalStateException("emit before init()");
    }
    FeatureAlert alert =
        FeatureAlerts.build(
            rule,
            FeatureAlerts.sequenceAlertId(rule, b.sequenceId(), windowStart),
            b.features.getSaeVersion(),
            b.features.getModelId(),
            b.features.getHookName(),
            List.of(b.sequenceId()),
            windowStart,
            latent,
            observed,
            threshold,
            tokenContext,
            clock.instant());
    c.forward(
        new Record<String, Object>(alert.getAlertId(), alert, Math.max(b.timestamp, windowStart)),
        MonitoringTopology.ALERTS_SINK);
    listener.onAlert(alert);
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
}
