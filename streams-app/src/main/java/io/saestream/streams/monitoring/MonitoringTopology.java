package io.saestream.streams.monitoring;

import io.saestream.schema.v1.FeatureAlert;
import io.saestream.streams.config.MonitoringSettings;
import io.saestream.streams.monitoring.rules.RuleBook;
import io.saestream.streams.monitoring.rules.RulesTopicProcessor;
import java.time.Clock;
import java.util.Objects;
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
 * Wires alerting and latent statistics into the sae-stream topology, after the analyze node:
 *
 * <pre>
 * analyze ─▶ monitor ─▶ alerts-sink (FeatureAlert, key alert_id)
 *            stores: sae-alert-sequence-windows, sae-alert-aggregate-windows,
 *                    sae-alert-rule-progress, sae-latent-stats, sae-latent-contexts
 * rules-source (global, compacted rules topic) ─▶ rules-update ─▶ global store sae-alert-rules
 * </pre>
 *
 * Every store is in memory with a changelog (state outlives a crash through its changelog).
 */
public final class MonitoringTopology {

  /** The monitor processor. */
  public static final String MONITOR = "monitor";

  /** Sink of alerts. */
  public static final String ALERTS_SINK = "alerts-sink";

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

  /** Baselines and closed-window marks of aggregate rules by rule id. */
  public static final String RULE_PROGRESS_STORE = "sae-alert-rule-progress";

  /** Latent statistics by sae|window|latent. */
  public static final String LATENT_STATS_STORE = "sae-latent-stats";

  /** Top activating contexts by sae|latent. */
  public static final String LATENT_CONTEXTS_STORE = "sae-latent-contexts";

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
   * records to {@link #MONITOR}), the alerts sink and the global rules store.
   *
   * @param clock source of {@code created_at}
   */
  public static void addTo(Topology topology, String parent, Wiring wiring, Clock clock) {
    Objects.requireNonNull(topology, "topology");
    Objects.requireNonNull(wiring, "wiring");
    Objects.requireNonNull(clock, "clock");
    MonitoringSettings settings = wiring.settings();
    RuleBook rules = wiring.rules();
    AlertListener listener = wiring.listener();
    Serializer<FeatureAlert> alertSerializer = wiring.alertSerializer();
    topology.addProcessor(
        MONITOR, () -> new MonitorProcessor(settings, rules, listener, clock), parent);
    topology.addStateStore(store(SEQUENCE_WINDOWS_STORE, JsonSerde.of(RuleWindow.class)), MONITOR);
    topology.addStateStore(store(AGGREGATE_WINDOWS_STORE, JsonSerde.of(RuleWindow.class)), MONITOR);
    topology.addStateStore(store(RULE_PROGRESS_STORE, JsonSerde.of(RuleProgress.class)), MONITOR);
    topology.addStateStore(
        store(LATENT_STATS_STORE, LatentCell.serde()).withCachingEnabled(), MONITOR);
    topology.addStateStore(
        store(LATENT_CONTEXTS_STORE, JsonSerde.of(TopContexts.class)).withCachingEnabled(),
        MONITOR);
    topology.addSink(
        ALERTS_SINK, settings.alertsTopic(), new StringSerializer(), alertSerializer, MONITOR);
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
        .withLoggingEnabled(java.util.Map.of());
  }
}
