package io.saestream.streams.http;

import io.saestream.schema.v1.FeatureAlert;
import io.saestream.streams.config.MonitoringSettings;
import io.saestream.streams.errors.DeadLetterMetrics;
import io.saestream.streams.metrics.TokenMetrics;
import io.saestream.streams.monitoring.MonitoringQueries;
import io.saestream.streams.monitoring.MonitoringStores;
import io.saestream.streams.monitoring.MonitoringTopology;
import io.saestream.streams.monitoring.RecentAlerts;
import io.saestream.streams.monitoring.SaeKeyPartitioner;
import io.saestream.streams.monitoring.rules.AlertRule;
import io.saestream.streams.monitoring.rules.RuleBook;
import io.saestream.streams.registry.DeployedSae;
import io.saestream.streams.registry.SaeRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.state.HostInfo;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ApiBackend} of a running app: Kafka Streams' state and metadata (who owns which sae_id
 * key, located with {@link SaeKeyPartitioner} like the aggregates sink writes), its local stores,
 * the SAE registry, the recent alerts and the token counters ({@link TokenMetrics}). Holds
 * references only; owns nothing. Thread-safe.
 */
public final class StreamsBackend implements ApiBackend {

  private static final Logger LOG = LoggerFactory.getLogger(StreamsBackend.class);

  private final KafkaStreams streams;
  private final HostInfo self;
  private final SaeRegistry registry;
  private final int deployments;
  private final @Nullable MonitoringSettings monitoring;
  private final RecentAlerts alerts;
  private final RuleBook rules;
  private final Clock clock;
  private final long startedAt;

  /**
   * A backend.
   *
   * @param streams the app's Kafka Streams client
   * @param self this instance's advertised host and HTTP port ({@code application.server})
   * @param registry the served SAEs
   * @param deployments how many SAEs the configuration deploys (readiness)
   * @param monitoring the monitoring settings, or null when monitoring is off
   * @param alerts this instance's recent alerts
   * @param rules the rules in force
   * @param clock wall clock of uptime and rates
   */
  @SuppressWarnings("TooManyParameters")
  public StreamsBackend(
      KafkaStreams streams,
      HostInfo self,
      SaeRegistry registry,
      int deployments,
      @Nullable MonitoringSettings monitoring,
      RecentAlerts alerts,
      RuleBook rules,
      Clock clock) {
    this.streams = Objects.requireNonNull(streams, "streams");
    this.self = Objects.requireNonNull(self, "self");
    this.registry = Objects.requireNonNull(registry, "registry");
    this.deployments = deployments;
    this.monitoring = monitoring;
    this.alerts = Objects.requireNonNull(alerts, "alerts");
    this.rules = Objects.requireNonNull(rules, "rules");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.startedAt = clock.millis();
  }

  @Override
  public String self() {
    return self.host() + ":" + self.port();
  }

  @Override
  public InstanceState state() {
    KafkaStreams.State state = streams.state();
    boolean ready =
        state == KafkaStreams.State.RUNNING && registry.deployed().size() >= deployments;
    return new InstanceState(state.name(), ready);
  }

  @Override
  public List<SaeInfo> saes() {
    List<SaeInfo> out = new ArrayList<>();
    for (DeployedSae s : registry.deployed()) {
      out.add(
          new SaeInfo(
              s.saeId(),
              s.hook().modelId(),
              s.hook().hookName(),
              s.version(),
              s.dIn(),
              s.dSae(),
              s.slots(),
              s.architecture()));
    }
    return out;
  }

  @Override
  public boolean monitoring() {
    return monitoring != null;
  }

  @Override
  public Owner locate(String saeId) {
    KafkaStreams.State state = streams.state();
    if (state != KafkaStreams.State.RUNNING && state != KafkaStreams.State.REBALANCING) {
      return new Unavailable("Kafka Streams is " + state);
    }
    KeyQueryMetadata md;
    try {
      md =
          streams.queryMetadataForKey(
              MonitoringTopology.LATENT_STATS_STORE, saeId, SaeKeyPartitioner.INSTANCE);
    } catch (RuntimeException e) {
      // Not started yet, or shutting down between the state check and the call.
      LOG.debug("No metadata for sae {}", saeId, e);
      return new Unavailable("no metadata: " + e.getMessage());
    }
    if (md == null
        || md.equals(KeyQueryMetadata.NOT_AVAILABLE)
        || md.activeHost() == null
        || md.activeHost().equals(HostInfo.unavailable())) {
      return new Unavailable("Kafka Streams is " + state + ", the owner is not known yet");
    }
    HostInfo owner = md.activeHost();
    if (owner.equals(self)) {
      return new Local();
    }
    return new Remote(owner.host() + ":" + owner.port());
  }

  @Override
  public MonitoringQueries queries() {
    MonitoringSettings m = monitoring;
    if (m == null) {
      throw new IllegalStateException("monitoring is disabled");
    }
    return new MonitoringQueries(m, MonitoringStores.of(streams));
  }

  @Override
  public List<String> peers() {
    List<String> out = new ArrayList<>();
    for (StreamsMetadata md : streams.metadataForAllStreamsClients()) {
      HostInfo h = md.hostInfo();
      if (!h.equals(self) && !h.equals(HostInfo.unavailable())) {
        out.add(h.host() + ":" + h.port());
      }
    }
    out.sort(null);
    return out;
  }

  @Override
  public List<FeatureAlert> recentAlerts(int limit) {
    return alerts.recent(limit);
  }

  @Override
  public @Nullable String ruleType(String ruleId) {
    AlertRule rule = rules.current().get(ruleId);
    return rule == null ? null : rule.typeName();
  }

  @Override
  public InstanceNumbers numbers() {
    long now = clock.millis();
    Map<MetricName, ? extends Metric> metrics = streams.metrics();
    return new InstanceNumbers(
        (now - startedAt) / 1000.0,
        TokenMetrics.tokensTotal(metrics),
        TokenMetrics.batchesTotal(metrics),
        DeadLetterMetrics.total(metrics),
        alerts.total(),
        TokenMetrics.tokensPerSecond(metrics));
  }
}
