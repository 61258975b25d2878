package io.saestream.streams.monitoring;

import io.saestream.schema.v1.FeatureAlert;
import io.saestream.streams.config.MonitoringSettings;
import io.saestream.streams.config.StreamsAppConfig;
import io.saestream.streams.monitoring.rules.RuleBook;
import io.saestream.streams.monitoring.rules.RulesTopicProcessor;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * Wires alerting and latent statistics into the sae-stream topology, after the analyze node, as two
 * sub-topologies joined by the aggregates topic:
 *
 * <pre>
 * (input partitions)  analyze ─▶ monitor ─┬─▶ alerts-sink       (FeatureAlert, key alert_id)
 *                                         └─▶ aggregates-sink   (BatchSummary, key sae_id)
 *                     store: sae-alert-sequence-windows
 * (sae_id partitions) aggregates-source ─▶ sae-monitor ─▶ sae-alerts-sink (FeatureAlert)
 *                     stores: sae-alert-aggregate-windows, sae-alert-rule-progress,
 *                             sae-latent-stats, sae-latent-stats-deltas, sae-window-totals,
 *                             sae-latent-contexts, sae-stats-progress
 * rules-source (global, compacted rules topic) ─▶ rules-update ─▶ global store sae-alert-rules
 * </pre>
 *
 * <p>Why two halves: a rule about one sequence (latent threshold, probe) needs the tokens of that
 * sequence, which live on the input partition of its sequence_id, so it runs there ({@link
 * SequenceMonitorProcessor}). Everything about an SAE as a whole (rate and drift rules, latent
 * statistics, top contexts) must see all of the SAE's traffic, which is spread over every input
 * partition; each batch is therefore reduced to a compact {@link BatchSummary} and repartitioned by
 * sae_id through the explicitly named aggregates topic ({@code monitoring.aggregates-topic},
 * created by the app, see {@link AggregatesTopic}) to the one task that owns the SAE ({@link
 * SaeMonitorProcessor}). Rate and drift alerts are thus global per SAE, and an interactive query
 * about an SAE goes to the instance owning its key, found with {@link SaeKeyPartitioner}, the
 * partitioner the aggregates sink writes with. Both halves run in the app's exactly-once
 * transactions: a summary is committed with the input offsets that produced it and read back
 * read-committed.
 *
 * <p>Every store is in memory with a changelog (state outlives a crash through its changelog).
 */
public final class MonitoringTopology {

  /** The per-sequence monitor processor (input partitions). */
  public static final String MONITOR = "monitor";

  /** Sink of the per-sequence rules' alerts. */
  public static final String ALERTS_SINK = "alerts-sink";

  /** Sink of batch summaries to the aggregates topic. */
  public static final String AGGREGATES_SINK = "aggregates-sink";

  /** Source of the aggregates topic. */
  public static final String AGGREGATES_SOURCE = "aggregates-source";

  /** The per-SAE monitor processor (aggregates partitions). */
  public static final String SAE_MONITOR = "sae-monitor";

  /** Sink of the per-SAE rules' alerts. */
  public static final String SAE_ALERTS_SINK = "sae-alerts-sink";

  /** Global source of the rules topic. */
  public static final String RULES_SOURCE = "rules-source";

  /** Global processor updating the rule book. */
  public static final String RULES_UPDATE = "rules-update";

  /** Global store of the rules topic (raw JSON by rule id). */
  public static final String RULES_STORE = "sae-alert-rules";

  /** State of per-sequence rules by window|rule|sequence. */
  public static final String SEQUENCE_WINDOWS_STORE = "sae-alert-sequence-windows";

  /** Open windows of aggregate rules by rule|window. */
  public static final String AGGREGATE_WINDOWS_STORE = "sae-alert-aggregate-windows";

  /** Baselines, stream time and closed-window marks of aggregate rules by rule id. */
  public static final String RULE_PROGRESS_STORE = "sae-alert-rule-progress";

  /** Latent statistics snapshots by sae|window|shard ({@link WindowAccumulator}). */
  public static final String LATENT_STATS_STORE = "sae-latent-stats";

  /** Latent statistics deltas since the last snapshot by sae|window|sequence. */
  public static final String STATS_DELTAS_STORE = "sae-latent-stats-deltas";

  /** Per-window totals of an SAE by sae|window. */
  public static final String WINDOW_TOTALS_STORE = "sae-window-totals";

  /** Top activating contexts by sae|latent. */
  public static final String LATENT_CONTEXTS_STORE = "sae-latent-contexts";

  /** Stream time and frozen windows of an SAE's statistics by sae_id. */
  public static final String SAE_PROGRESS_STORE = "sae-stats-progress";

  private MonitoringTopology() {}

  /**
   * What the monitor needs from the app.
   *
   * @param settings topics and parameters
   * @param alertSerializer writes FeatureAlert values (Confluent wire format)
   * @param rules the rule book the rules topic updates and the monitor reads
   * @param listener told of each alert (e.g. {@link RecentAlerts})
   */
  public record Wiring(
      MonitoringSettings settings,
      Serializer<FeatureAlert> alertSerializer,
      RuleBook rules,
      AlertListener listener) {

    /** Checks for nulls. */
    public Wiring {
      Objects.requireNonNull(settings, "settings");
      Objects.requireNonNull(alertSerializer, "alertSerializer");
      Objects.requireNonNull(rules, "rules");
      Objects.requireNonNull(listener, "listener");
    }
  }

  /**
   * Adds the monitor node as a child of {@code parent} (which forwards {@link AnalyzedBatch}
   * records to {@link #MONITOR}), the aggregates sink and source, the per-SAE monitor, the alert
   * sinks and the global rules store.
   *
   * @param clock source of the alerts' {@code created_at}
   */
  public static void addTo(Topology topology, String parent, Wiring wiring, Clock clock) {
    Objects.requireNonNull(topology, "topology");
    Objects.requireNonNull(wiring, "wiring");
    Objects.requireNonNull(clock, "clock");
    MonitoringSettings settings = wiring.settings();
    RuleBook rules = wiring.rules();
    AlertListener listener = wiring.listener();
    Serializer<FeatureAlert> alertSerializer = wiring.alertSerializer();
    Serde<BatchSummary> summaries = BatchSummary.serde();

    topology.addProcessor(
        MONITOR, () -> new SequenceMonitorProcessor(settings, rules, listener, clock), parent);
    topology.addStateStore(store(SEQUENCE_WINDOWS_STORE, JsonSerde.of(RuleWindow.class)), MONITOR);
    topology.addSink(
        ALERTS_SINK, settings.alertsTopic(), new StringSerializer(), alertSerializer, MONITOR);
    topology.addSink(
        AGGREGATES_SINK,
        settings.aggregatesTopic(),
        new StringSerializer(),
        narrow(summaries.serializer()),
        SaeKeyPartitioner.INSTANCE,
        MONITOR);

    topology.addSource(
        AGGREGATES_SOURCE,
        new StringDeserializer(),
        summaries.deserializer(),
        settings.aggregatesTopic());
    topology.addProcessor(
        SAE_MONITOR,
        () -> new SaeMonitorProcessor(settings, rules, listener, clock),
        AGGREGATES_SOURCE);
    topology.addStateStore(
        store(AGGREGATE_WINDOWS_STORE, JsonSerde.of(RuleWindow.class)).withCachingEnabled(),
        SAE_MONITOR);
    topology.addStateStore(
        store(RULE_PROGRESS_STORE, JsonSerde.of(RuleProgress.class)).withCachingEnabled(),
        SAE_MONITOR);
    // Shards and deltas are written once each (no key repeats within a commit): no cache.
    topology.addStateStore(store(LATENT_STATS_STORE, LatentShard.serde()), SAE_MONITOR);
    // A delta is a summary as it came through the aggregates topic: as large as that topic allows.
    topology.addStateStore(
        Stores.keyValueStoreBuilder(
                Stores.inMemoryKeyValueStore(STATS_DELTAS_STORE),
                Serdes.String(),
                BatchSummary.serde())
            .withLoggingEnabled(
                Map.of(
                    TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                    Integer.toString(StreamsAppConfig.MAX_RECORD_BYTES))),
        SAE_MONITOR);
    topology.addStateStore(
        store(WINDOW_TOTALS_STORE, JsonSerde.of(WindowTotals.class)).withCachingEnabled(),
        SAE_MONITOR);
    topology.addStateStore(
        store(LATENT_CONTEXTS_STORE, TopContexts.serde()).withCachingEnabled(), SAE_MONITOR);
    topology.addStateStore(
        store(SAE_PROGRESS_STORE, JsonSerde.of(SaeProgress.class)).withCachingEnabled(),
        SAE_MONITOR);
    topology.addSink(
        SAE_ALERTS_SINK,
        settings.alertsTopic(),
        new StringSerializer(),
        alertSerializer,
        SAE_MONITOR);

    topology.addGlobalStore(
        Stores.keyValueStoreBuilder(
                Stores.inMemoryKeyValueStore(RULES_STORE), Serdes.String(), Serdes.String())
            .withLoggingDisabled(),
        RULES_SOURCE,
        new StringDeserializer(),
        new StringDeserializer(),
        settings.rulesTopic(),
        RULES_UPDATE,
        () -> new RulesTopicProcessor(RULES_STORE, rules));
  }

  private static <V> StoreBuilder<KeyValueStore<String, V>> store(String name, Serde<V> values) {
    return Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name), Serdes.String(), values)
        .withLoggingEnabled(Map.of());
  }

  /** The monitor forwards both alerts and summaries; this checks the type at the sink. */
  private static Serializer<Object> narrow(Serializer<BatchSummary> serializer) {
    return (topic, data) -> serializer.serialize(topic, (BatchSummary) data);
  }
}
