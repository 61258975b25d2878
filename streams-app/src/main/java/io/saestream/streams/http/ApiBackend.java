package io.saestream.streams.http;

import io.saestream.schema.v1.FeatureAlert;
import io.saestream.streams.monitoring.MonitoringQueries;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What the HTTP API needs to know about this instance and its cluster; the running app implements
 * it over Kafka Streams ({@link StreamsBackend}), tests with fakes. Implementations are
 * thread-safe.
 */
public interface ApiBackend {

  /** This instance's {@code host:port}, as other instances reach it. */
  String self();

  /** The Kafka Streams state and whether the instance is ready. */
  InstanceState state();

  /** The SAEs this instance serves (every instance serves the same). */
  List<SaeInfo> saes();

  /** The SAE {@code saeId}, if served. */
  default Optional<SaeInfo> sae(String saeId) {
    return saes().stream().filter(s -> s.saeId().equals(saeId)).findFirst();
  }

  /** Whether latent statistics are kept (monitoring enabled). */
  boolean monitoring();

  /** Which instance owns the statistics of {@code saeId} now. */
  Owner locate(String saeId);

  /**
   * Queries over this instance's local stores.
   *
   * @throws IllegalStateException when monitoring is disabled
   */
  MonitoringQueries queries();

  /**
   * The other instances of the application ({@code host:port} each), as Kafka Streams knows them.
   */
  List<String> peers();

  /** Up to {@code limit} of this instance's recent alerts, newest first. */
  List<FeatureAlert> recentAlerts(int limit);

  /** The type of rule {@code ruleId} (latent-threshold, …), or null when it is not in force. */
  @Nullable String ruleType(String ruleId);

  /** This instance's live numbers. */
  InstanceNumbers numbers();

  /**
   * The Kafka Streams state and readiness.
   *
   * @param state the {@code KafkaStreams.State} name
   * @param ready RUNNING and every deployed SAE loaded
   */
  record InstanceState(String state, boolean ready) {
    /** Checks for null. */
    public InstanceState {
      Objects.requireNonNull(state, "state");
    }
  }

  /**
   * One served SAE.
   *
   * @param saeId its id
   * @param modelId model whose activations it reads
   * @param hookName hook it reads
   * @param version the version being served
   * @param dIn input width
   * @param dSae number of latents
   * @param k latents reported per token
   * @param architecture sae-lens architecture of the served form
   */
  record SaeInfo(
      String saeId,
      String modelId,
      String hookName,
      long version,
      int dIn,
      int dSae,
      int k,
      String architecture) {
    /** Checks for nulls. */
    public SaeInfo {
      Objects.requireNonNull(saeId, "saeId");
      Objects.requireNonNull(modelId, "modelId");
      Objects.requireNonNull(hookName, "hookName");
      Objects.requireNonNull(architecture, "architecture");
    }
  }

  /**
   * This instance's counters.
   *
   * @param uptimeSeconds since start
   * @param tokensTotal tokens of accepted input records ({@code sae_tokens_processed_total})
   * @param recordsTotal accepted input records
   * @param deadLettersTotal dead letters written
   * @param alertsTotal distinct alerts raised here
   * @param tokensPerSecond over the last ten seconds or so
   */
  record InstanceNumbers(
      double uptimeSeconds,
      long tokensTotal,
      long recordsTotal,
      long deadLettersTotal,
      long alertsTotal,
      double tokensPerSecond) {}

  /** Who owns an SAE's statistics. */
  sealed interface Owner permits Local, Remote, Unavailable {}

  /** This instance. */
  record Local() implements Owner {}

  /**
   * Another instance.
   *
   * @param hostPort where to forward
   */
  record Remote(String hostPort) implements Owner {}

  /**
   * Nobody can answer now (rebalancing, not running).
   *
   * @param reason for the 503 message
   */
  record Unavailable(String reason) implements Owner {}
}
