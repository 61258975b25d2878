package io.saestream.streams.config;

import io.saestream.config.ConfigLayout;
import io.saestream.config.ConfigTree;
import io.saestream.schema.checkpoint.HmacKey;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads a {@link StreamsAppConfig} from YAML and the environment.
 *
 * <p>File layout (every key optional except {@code deployments}; defaults in brackets):
 *
 * <pre>
 * kafka:
 *   bootstrap-servers: localhost:9092      [localhost:9092]
 *   application-id: sae-stream             [sae-stream]
 *   properties:                            # passthrough Kafka client properties (SASL, TLS, ...)
 *     security.protocol: SASL_SSL
 * schema-registry:
 *   urls: http://localhost:8081            [http://localhost:8081] (comma-separated or a list)
 *   basic-auth-user-info: user:password    [none]
 *   auto-register-schemas: true            [true]
 * topics:
 *   activations: sae.activations.v1        [sae.activations.v1]
 *   features: sae.features.v1              [sae.features.v1]
 *   reconstruction: sae.reconstruction.v1  [sae.reconstruction.v1]
 *   dead-letter: sae.dlq.v1                [sae.dlq.v1]
 * streams:
 *   threads: 1                             [1]
 *   max-tokens-per-record: 4096            [4096]
 *   state-dir: /var/lib/sae-stream         [&lt;java.io.tmpdir&gt;/sae-stream]
 *   commit-interval: 100ms                 [100ms]  (ms, s, m, h, or ISO-8601 like PT1S)
 *   shutdown-timeout: 30s                  [30s]
 * inference:
 *   device: cpu                            [cpu]    (cpu, cuda, auto)
 *   cuda-device-id: 0                      [0]
 *   intra-op-threads: 1                    [1]      (0 = ONNX Runtime's default)
 * checkpoints:                             # hot swap (see CheckpointSettings)
 *   follow: true                           [false]
 *   topic: sae.checkpoints.v1              [sae.checkpoints.v1]
 *   hmac-key-file: /run/secrets/sae-key    [none]   (or SAE_STREAM_CHECKPOINTS_HMAC_KEY)
 *   max-payload-size: 536870912            [536870912] (bytes)
 *   assembly-timeout: 30s                  [30s]
 * monitoring:                              # alerts and latent statistics (see MonitoringSettings)
 *   enabled: true                          [false]  (the alerts and rules topics must exist)
 *   alerts-topic: sae.alerts.v1            [sae.alerts.v1]
 *   rules-topic: sae.rules.v1              [sae.rules.v1] (compacted; key rule id, JSON value)
 *   aggregates-topic: sae.monitor.aggregates.v1 [sae.monitor.aggregates.v1] (created by the app)
 *   aggregates-partitions: 0               [0]      (0 = as many as the activations topic)
 *   window-grace: 10s                      [10s]    (late summaries of per-SAE windows)
 *   idle-partition-timeout: 30s            [30s]    (wall clock; idle partitions leave the
 *                                                    per-SAE watermark)
 *   rules-file: rules.yaml                 [none]   (reloaded when it changes)
 *   rules-poll-interval: 5s                [5s]
 *   context-tokens: 5                      [5]      (tokens either side in alert context)
 *   redact-tokens: false                   [false]
 *   stats-window: 1m                       [1m]
 *   stats-retention-windows: 60            [60]
 *   top-contexts: 5                        [5]      (per latent)
 *   dense-density: 0.1                     [0.1]
 *   recent-alerts: 200                     [200]    (alert feed size)
 * http:                                    # read-only API, dashboard, /metrics (see HttpSettings)
 *   enabled: true                          [monitoring.enabled]
 *   bind: 127.0.0.1                        [127.0.0.1]
 *   port: 8080                             [8080]   (0 = ephemeral)
 *   advertised-host: node-1.internal       [http.bind] (how other instances reach this one)
 *   bearer-token-file: /run/secrets/token  [none]   (or SAE_STREAM_HTTP_BEARER_TOKEN)
 *   forward-timeout: 2s                    [2s]     (queries forwarded to the key's owner)
 * deployments:                             # at least one
 *   - sae-id: gpt2-small-res-jb-8
 *     path: saes/blocks.8                  # sae-lens SAE directory (cfg.json + safetensors)
 *     model-id: gpt2-small                 [cfg.json metadata.model_name]
 *     hook-name: blocks.8.hook_resid_pre   [cfg.json metadata.hook_name]
 *     max-active: 64                       [k for topk, else min(d_sae, 128)]
 *     version: 1                           [0]
 * </pre>
 *
 * <p>Relative paths are resolved against the directory of the file. Unknown keys are errors (they
 * are usually typos).
 *
 * <p>Environment overrides, applied over the file: every scalar key above has a variable {@code
 * SAE_STREAM_<KEY>}, the key upper-cased with '.' and '-' turned into '_' (e.g. {@code
 * SAE_STREAM_KAFKA_BOOTSTRAP_SERVERS}, {@code SAE_STREAM_STREAMS_MAX_TOKENS_PER_RECORD}); {@code
 * SAE_STREAM_KAFKA_PROPERTIES_<NAME>} sets Kafka property {@code <name>} lower-cased with '_'
 * turned into '.' (e.g. {@code SAE_STREAM_KAFKA_PROPERTIES_SASL_JAAS_CONFIG}). Deployments come
 * from the file only. Other {@code SAE_STREAM_*} variables are ignored with a warning, except the
 * process-wide ones ({@link ConfigLayout#PROCESS_VARIABLES}: log levels, JVM options, debug).
 *
 * <p>The checkpoint signing key is a secret: it comes from {@code checkpoints.hmac-key-file} or
 * from the variable {@code SAE_STREAM_CHECKPOINTS_HMAC_KEY} (its UTF-8 bytes), never from the file
 * itself, and is never logged. So does the HTTP bearer token: {@code http.bearer-token-file} or
 * {@code SAE_STREAM_HTTP_BEARER_TOKEN}.
 */
public final class ConfigLoader {

  /** Prefix of the environment variables read. */
  public static final String ENV_PREFIX = ConfigLayout.ENV_PREFIX;

  /** Default {@code schema-registry.urls}. */
  public static final String DEFAULT_REGISTRY_URL = "http://localhost:8081";

  /** The environment-only key holding the checkpoint signing key. */
  private static final String HMAC_KEY = "checkpoints.hmac-key";

  /** The environment-only key holding the HTTP bearer token. */
  private static final String BEARER_TOKEN = "http.bearer-token";

  /** Keys and sections in documentation order. */
  private static final ConfigLayout LAYOUT =
      ConfigLayout.builder("streams", ConfigLoader.class)
          .section("kafka", "bootstrap-servers", "application-id")
          .propertyMap("kafka.properties")
          .section("schema-registry", "urls", "basic-auth-user-info", "auto-register-schemas")
          .section("topics", "activations", "features", "reconstruction", "dead-letter")
          .section(
              "streams",
              "threads",
              "max-tokens-per-record",
              "state-dir",
              "commit-interval",
              "shutdown-timeout")
          .section("inference", "device", "cuda-device-id", "intra-op-threads")
          .section(
              "checkpoints",
              "follow",
              "topic",
              "hmac-key-file",
              "max-payload-size",
              "assembly-timeout",
              "hmac-key")
          .section(
              "monitoring",
              "enabled",
              "alerts-topic",
              "rules-topic",
              "aggregates-topic",
              "aggregates-partitions",
              "window-grace",
              "idle-partition-timeout",
              "rules-file",
              "rules-poll-interval",
              "context-tokens",
              "redact-tokens",
              "stats-window",
              "stats-retention-windows",
              "top-contexts",
              "dense-density",
              "recent-alerts")
          .section(
              "http",
              "enabled",
              "bind",
              "port",
              "advertised-host",
              "bearer-token-file",
              "forward-timeout",
              "bearer-token")
          .entries("deployments")
          .secret(
              HMAC_KEY,
              "put the key in a file named by checkpoints.hmac-key-file or in "
                  + environmentVariable(HMAC_KEY))
          .secret(
              BEARER_TOKEN,
              "put the token in a file named by http.bearer-token-file or in "
                  + environmentVariable(BEARER_TOKEN))
          .build();

  private static final List<String> DEPLOYMENT_KEYS =
      List.of("sae-id", "path", "model-id", "hook-name", "max-active", "version");

  private ConfigLoader() {}

  /** Reads {@code file}, then applies {@code environment}. */
  static StreamsAppConfig load(Path file, Map<String, String> environment) {
    return LAYOUT.load(file, environment, ConfigLoader::config);
  }

  /**
   * Parses YAML {@code text}, resolving relative paths against {@code baseDir}, then applies {@code
   * environment}.
   */
  public static StreamsAppConfig parse(String text, Path baseDir, Map<String, String> environment) {
    return config(LAYOUT.read(text, baseDir, environment));
  }

  /** The environment variable that overrides scalar {@code key}. */
  public static String environmentVariable(String key) {
    return ConfigLayout.environmentVariable(key);
  }

  /** Every scalar key that an environment variable can override. */
  public static List<String> scalarKeys() {
    return LAYOUT.scalarKeys();
  }

  /** Parses {@code 100ms}, {@code 30s}, {@code 5m}, {@code 1h} or ISO-8601 ({@code PT30S}). */
  public static Duration parseDuration(String key, String text) {
    return ConfigTree.parseDuration(key, text);
  }

  private static StreamsAppConfig config(ConfigTree t) {
    KafkaSettings kafka =
        new KafkaSettings(
            t.string("kafka.bootstrap-servers", "localhost:9092"),
            t.string("kafka.application-id", "sae-stream"),
            t.properties("kafka.properties"));
    SchemaRegistrySettings registry =
        new SchemaRegistrySettings(
            urls(t, "schema-registry.urls"),
            t.optionalString("schema-registry.basic-auth-user-info"),
            t.bool("schema-registry.auto-register-schemas", true));
    TopicNames topics =
        new TopicNames(
            t.string("topics.activations", TopicNames.DEFAULT_ACTIVATIONS),
            t.string("topics.features", TopicNames.DEFAULT_FEATURES),
            t.string("topics.reconstruction", TopicNames.DEFAULT_RECONSTRUCTION),
            t.string("topics.dead-letter", TopicNames.DEFAULT_DEAD_LETTER));
    StreamsSettings defaults = StreamsSettings.defaults();
    StreamsSettings streams =
        new StreamsSettings(
            t.integer("streams.threads", defaults.threads()),
            t.integer("streams.max-tokens-per-record", defaults.maxTokensPerRecord()),
            t.path("streams.state-dir", defaults.stateDir()),
            t.duration("streams.commit-interval", defaults.commitInterval()),
            t.duration("streams.shutdown-timeout", defaults.shutdownTimeout()));
    InferenceSettings inference =
        new InferenceSettings(
            Device.parse("inference.device", t.string("inference.device", "cpu")),
            t.integer("inference.cuda-device-id", 0),
            t.integer("inference.intra-op-threads", InferenceSettings.DEFAULT_INTRA_OP_THREADS));
    MonitoringSettings monitoring = monitoring(t);
    return new StreamsAppConfig(
        kafka,
        registry,
        topics,
        streams,
        inference,
        deployments(t),
        checkpoints(t),
        monitoring,
        http(t, monitoring.enabled()));
  }

  private static List<URI> urls(ConfigTree t, String key) {
    List<URI> urls = new ArrayList<>();
    for (String text : t.strings(key, DEFAULT_REGISTRY_URL)) {
      try {
        urls.add(URI.create(text.trim()));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(key + " has a malformed URL '" + text + "'", e);
      }
    }
    return urls;
  }

  private static HttpSettings http(ConfigTree t, boolean monitoringEnabled) {
    HttpSettings d = HttpSettings.defaults();
    String tokenText = t.optionalString(BEARER_TOKEN);
    Path tokenFile = t.optionalPath("http.bearer-token-file");
    if (tokenText != null && tokenFile != null) {
      throw new IllegalArgumentException(
          "set either http.bearer-token-file or "
              + environmentVariable(BEARER_TOKEN)
              + ", not both");
    }
    BearerToken token;
    try {
      token =
          tokenText != null
              ? BearerToken.fromText(tokenText)
              : tokenFile != null ? BearerToken.fromFile(tokenFile) : null;
    } catch (IllegalArgumentException e) {
      // The message names the length or the file, never the token.
      throw new IllegalArgumentException(
          (tokenText != null ? environmentVariable(BEARER_TOKEN) : "http.bearer-token-file")
              + ": "
              + e.getMessage(),
          e);
    }
    return new HttpSettings(
        t.bool("http.enabled", monitoringEnabled),
        t.string("http.bind", d.bind()),
        t.integer("http.port", d.port()),
        t.optionalString("http.advertised-host"),
        token,
        t.duration("http.forward-timeout", d.forwardTimeout()));
  }

  private static MonitoringSettings monitoring(ConfigTree t) {
    MonitoringSettings d = MonitoringSettings.defaults();
    return new MonitoringSettings(
        t.bool("monitoring.enabled", d.enabled()),
        t.string("monitoring.alerts-topic", d.alertsTopic()),
        t.string("monitoring.rules-topic", d.rulesTopic()),
        t.string("monitoring.aggregates-topic", d.aggregatesTopic()),
        t.integer("monitoring.aggregates-partitions", d.aggregatesPartitions()),
        t.duration("monitoring.window-grace", d.windowGrace()),
        t.duration("monitoring.idle-partition-timeout", d.idlePartitionTimeout()),
        t.optionalPath("monitoring.rules-file"),
        t.duration("monitoring.rules-poll-interval", d.rulesPollInterval()),
        t.integer("monitoring.context-tokens", d.contextTokens()),
        t.bool("monitoring.redact-tokens", d.redactTokens()),
        t.duration("monitoring.stats-window", d.statsWindow()),
        t.integer("monitoring.stats-retention-windows", d.statsRetentionWindows()),
        t.integer("monitoring.top-contexts", d.topContexts()),
        t.number("monitoring.dense-density", d.denseDensity()),
        t.integer("monitoring.recent-alerts", d.recentAlerts()));
  }

  private static CheckpointSettings checkpoints(ConfigTree t) {
    CheckpointSettings defaults = CheckpointSettings.defaults();
    String keyText = t.optionalString(HMAC_KEY);
    Path keyFile = t.optionalPath("checkpoints.hmac-key-file");
    if (keyText != null && keyFile != null) {
      throw new IllegalArgumentException(
          "set either checkpoints.hmac-key-file or "
              + environmentVariable(HMAC_KEY)
              + ", not both");
    }
    HmacKey key;
    try {
      key =
          keyText != null
              ? HmacKey.fromText(keyText)
              : keyFile != null ? HmacKey.fromFile(keyFile) : null;
    } catch (IllegalArgumentException e) {
      // The message names the length or the file, never the key.
      throw new IllegalArgumentException(
          (keyText != null ? environmentVariable(HMAC_KEY) : "checkpoints.hmac-key-file")
              + ": "
              + e.getMessage(),
          e);
    }
    return new CheckpointSettings(
        t.bool("checkpoints.follow", defaults.follow()),
        t.string("checkpoints.topic", defaults.topic()),
        key,
        t.longInteger("checkpoints.max-payload-size", defaults.maxPayloadSize()),
        t.duration("checkpoints.assembly-timeout", defaults.assemblyTimeout()));
  }

  private static List<SaeDeployment> deployments(ConfigTree t) {
    List<SaeDeployment> deployments = new ArrayList<>();
    for (ConfigTree d : t.entries("deployments")) {
      for (String field : d.keys()) {
        if (!DEPLOYMENT_KEYS.contains(field)) {
          throw LAYOUT.unknownKey(d.keyOf(field), DEPLOYMENT_KEYS);
        }
      }
      String saeId = d.requiredString("sae-id");
      Path path = d.resolve(d.requiredString("path"));
      Integer maxActive = d.has("max-active") ? d.integer("max-active", 0) : null;
      try {
        deployments.add(
            new SaeDeployment(
                saeId,
                path,
                d.optionalString("model-id"),
                d.optionalString("hook-name"),
                maxActive,
                d.longInteger("version", 0)));
      } catch (IllegalArgumentException e) {
        throw d.named(e);
      }
    }
    return deployments;
  }
}
