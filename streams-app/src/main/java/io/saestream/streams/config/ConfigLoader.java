package io.saestream.streams.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.saestream.schema.checkpoint.HmacKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * from the file only. Other {@code SAE_STREAM_*} variables are ignored with a warning.
 *
 * <p>The checkpoint signing key is a secret: it comes from {@code checkpoints.hmac-key-file} or
 * from the variable {@code SAE_STREAM_CHECKPOINTS_HMAC_KEY} (its UTF-8 bytes), never from the file
 * itself, and is never logged. So does the HTTP bearer token: {@code http.bearer-token-file} or
 * {@code SAE_STREAM_HTTP_BEARER_TOKEN}.
 */
public final class ConfigLoader {

  /** Prefix of the environment variables read. */
  public static final String ENV_PREFIX = "SAE_STREAM_";

  /** Default {@code schema-registry.urls}. */
  public static final String DEFAULT_REGISTRY_URL = "http://localhost:8081";

  private static final String PROPERTIES_ENV_PREFIX = ENV_PREFIX + "KAFKA_PROPERTIES_";

  private static final Logger LOG = LoggerFactory.getLogger(ConfigLoader.class);

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /** Scalar keys by section, in documentation order. */
  private static final Map<String, List<String>> SECTIONS = sections();

  private static final Set<String> DEPLOYMENT_KEYS =
      Set.of("sae-id", "path", "model-id", "hook-name", "max-active", "version");

  /** The environment-only key holding the checkpoint signing key. */
  private static final String HMAC_KEY = "checkpoints.hmac-key";

  /** The environment-only key holding the HTTP bearer token. */
  private static final String BEARER_TOKEN = "http.bearer-token";

  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)");

  private ConfigLoader() {}

  /** Reads {@code file}, then applies {@code environment}. */
  static StreamsAppConfig load(Path file, Map<String, String> environment) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read configuration file " + file, e);
    }
    Path base = file.toAbsolutePath().getParent();
    try {
      return parse(text, base == null ? Path.of("") : base, environment);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Parses YAML {@code text}, resolving relative paths against {@code baseDir}, then applies {@code
   * environment}.
   */
  public static StreamsAppConfig parse(String text, Path baseDir, Map<String, String> environment) {
    ObjectNode root = readTree(text);
    if (root.get("checkpoints") instanceof ObjectNode cp && cp.has("hmac-key")) {
      throw new IllegalArgumentException(
          HMAC_KEY
              + " must not be written in the configuration file; put the key in a file named by"
              + " checkpoints.hmac-key-file or in "
              + environmentVariable(HMAC_KEY));
    }
    if (root.get("http") instanceof ObjectNode h && h.has("bearer-token")) {
      throw new IllegalArgumentException(
          BEARER_TOKEN
              + " must not be written in the configuration file; put the token in a file named by"
              + " http.bearer-token-file or in "
              + environmentVariable(BEARER_TOKEN));
    }
    applyEnvironment(root, environment);
    checkKnownKeys(root);
    Tree t = new Tree(root, baseDir);
    KafkaSettings kafka =
        new KafkaSettings(
            t.string("kafka.bootstrap-servers", "localhost:9092"),
            t.string("kafka.application-id", "sae-stream"),
            t.properties("kafka.properties"));
    SchemaRegistrySettings registry =
        new SchemaRegistrySettings(
            t.urls("schema-registry.urls", DEFAULT_REGISTRY_URL),
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
        t.deployments(),
        checkpoints(t),
        monitoring,
        http(t, monitoring.enabled()));
  }

  private static HttpSettings http(Tree t, boolean monitoringEnabled) {
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

  private static MonitoringSettings monitoring(Tree t) {
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

  private static CheckpointSettings checkpoints(Tree t) {
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

  /** The environment variable that overrides scalar {@code key}. */
  public static String environmentVariable(String key) {
    return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  /** Every scalar key that an environment variable can override. */
  public static List<String> scalarKeys() {
    List<String> keys = new ArrayList<>();
    SECTIONS.forEach((section, names) -> names.forEach(n -> keys.add(section + "." + n)));
    return keys;
  }

  private static ObjectNode readTree(String text) {
    JsonNode node;
    try {
      node = YAML.readTree(text);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not valid YAML: " + e.getOriginalMessage(), e);
    }
    if (node == null || node.isMissingNode() || node.isNull()) {
      return JsonNodeFactory.instance.objectNode();
    }
    if (!node.isObject()) {
      throw new IllegalArgumentException(
          "the configuration must be a YAML mapping, was a " + node.getNodeType());
    }
    return (ObjectNode) node;
  }

  private static void applyEnvironment(ObjectNode root, Map<String, String> environment) {
    Map<String, String> byVariable = new LinkedHashMap<>();
    for (String key : scalarKeys()) {
      byVariable.put(environmentVariable(key), key);
    }
    for (Map.Entry<String, String> e : new TreeMap<>(environment).entrySet()) {
      String variable = e.getKey();
      if (!variable.startsWith(ENV_PREFIX)) {
        continue;
      }
      String key = byVariable.get(variable);
      if (key != null) {
        int dot = key.indexOf('.');
        section(root, key.substring(0, dot)).put(key.substring(dot + 1), e.getValue());
      } else if (variable.startsWith(PROPERTIES_ENV_PREFIX)
          && variable.length() > PROPERTIES_ENV_PREFIX.length()) {
        String property =
            variable
                .substring(PROPERTIES_ENV_PREFIX.length())
                .toLowerCase(Locale.ROOT)
                .replace('_', '.');
        ObjectNode kafka = section(root, "kafka");
        JsonNode properties = kafka.get("properties");
        ObjectNode target = properties instanceof ObjectNode o ? o : kafka.putObject("properties");
        target.put(property, e.getValue());
      } else {
        LOG.warn("Ignoring environment variable {}: it names no configuration key", variable);
      }
    }
  }

  private static ObjectNode section(ObjectNode root, String name) {
    JsonNode node = root.get(name);
    if (node instanceof ObjectNode o) {
      return o;
    }
    if (node != null && !node.isNull()) {
      throw new IllegalArgumentException(name + " must be a mapping, was " + node.getNodeType());
    }
    return root.putObject(name);
  }

  private static void checkKnownKeys(ObjectNode root) {
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String section = it.next();
      if (section.equals("deployments")) {
        continue;
      }
      List<String> known = SECTIONS.get(section);
      if (known == null) {
        throw new IllegalArgumentException(
            "unknown configuration key '"
                + section
                + "'; known: "
                + String.join(", ", SECTIONS.keySet())
                + ", deployments");
      }
      JsonNode node = root.get(section);
      if (node == null || node.isNull()) {
        continue;
      }
      if (!node.isObject()) {
        throw new IllegalArgumentException(
            section + " must be a mapping, was " + node.getNodeType());
      }
      for (Iterator<String> keys = node.fieldNames(); keys.hasNext(); ) {
        String key = keys.next();
        if (!known.contains(key) && !(section.equals("kafka") && key.equals("properties"))) {
          throw new IllegalArgumentException(
              "unknown configuration key '"
                  + section
                  + "."
                  + key
                  + "'; known in "
                  + section
                  + ": "
                  + String.join(", ", known)
                  + (section.equals("kafka") ? ", properties" : ""));
        }
      }
    }
  }

  private static Map<String, List<String>> sections() {
    Map<String, List<String>> s = new LinkedHashMap<>();
    s.put("kafka", List.of("bootstrap-servers", "application-id"));
    s.put("schema-registry", List.of("urls", "basic-auth-user-info", "auto-register-schemas"));
    s.put("topics", List.of("activations", "features", "reconstruction", "dead-letter"));
    s.put(
        "streams",
        List.of(
            "threads",
            "max-tokens-per-record",
            "state-dir",
            "commit-interval",
            "shutdown-timeout"));
    s.put("inference", List.of("device", "cuda-device-id", "intra-op-threads"));
    s.put(
        "checkpoints",
        List.of(
            "follow",
            "topic",
            "hmac-key-file",
            "max-payload-size",
            "assembly-timeout",
            "hmac-key"));
    s.put(
        "monitoring",
        List.of(
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
            "recent-alerts"));
    s.put(
        "http",
        List.of(
            "enabled",
            "bind",
            "port",
            "advertised-host",
            "bearer-token-file",
            "forward-timeout",
            "bearer-token"));
    return s;
  }

  /** Typed access to the parsed tree by dotted key, with messages naming the key. */
  private static final class Tree {

    private final ObjectNode root;
    private final Path baseDir;

    Tree(ObjectNode root, Path baseDir) {
      this.root = root;
      this.baseDir = baseDir;
    }

    @Nullable JsonNode node(String key) {
      int dot = key.indexOf('.');
      JsonNode section = root.get(key.substring(0, dot));
      if (section == null || section.isNull()) {
        return null;
      }
      JsonNode value = section.get(key.substring(dot + 1));
      return value == null || value.isNull() ? null : value;
    }

    String string(String key, String fallback) {
      String value = optionalString(key);
      return value == null ? fallback : value;
    }

    @Nullable String optionalString(String key) {
      return scalarText(key, node(key));
    }

    int integer(String key, int fallback) {
      String text = optionalString(key);
      if (text == null) {
        return fallback;
      }
      try {
        return Integer.parseInt(text.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(key + " must be an integer, was '" + text + "'", e);
      }
    }

    double number(String key, double fallback) {
      String text = optionalString(key);
      if (text == null) {
        return fallback;
      }
      try {
        return Double.parseDouble(text.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(key + " must be a number, was '" + text + "'", e);
      }
    }

    long longInteger(String key, long fallback) {
      String text = optionalString(key);
      return text == null ? fallback : parseLong(key, text);
    }

    @Nullable Path optionalPath(String key) {
      String text = optionalString(key);
      return text == null ? null : baseDir.resolve(text).normalize();
    }

    boolean bool(String key, boolean fallback) {
      String text = optionalString(key);
      if (text == null) {
        return fallback;
      }
      return switch (text.trim().toLowerCase(Locale.ROOT)) {
        case "true" -> true;
        case "false" -> false;
        default ->
            throw new IllegalArgumentException(key + " must be true or false, was '" + text + "'");
      };
    }

    Duration duration(String key, Duration fallback) {
      String text = optionalString(key);
      return text == null ? fallback : parseDuration(key, text);
    }

    Path path(String key, Path fallback) {
      String text = optionalString(key);
      return text == null ? fallback : baseDir.resolve(text).normalize();
    }

    List<URI> urls(String key, String fallback) {
      JsonNode node = node(key);
      List<String> texts = new ArrayList<>();
      if (node == null) {
        texts.addAll(List.of(fallback.split(",", -1)));
      } else if (node.isArray()) {
        for (JsonNode element : node) {
          texts.add(scalarText(key + "[]", element));
        }
      } else {
        texts.addAll(List.of(String.valueOf(scalarText(key, node)).split(",", -1)));
      }
      List<URI> urls = new ArrayList<>();
      for (String text : texts) {
        try {
          urls.add(URI.create(text.trim()));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(key + " has a malformed URL '" + text + "'", e);
        }
      }
      return urls;
    }

    Map<String, String> properties(String key) {
      JsonNode node = node(key);
      Map<String, String> properties = new TreeMap<>();
      if (node == null) {
        return properties;
      }
      if (!node.isObject()) {
        throw new IllegalArgumentException(key + " must be a mapping, was " + node.getNodeType());
      }
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        String value = scalarText(key + "." + e.getKey(), e.getValue());
        if (value == null) {
          throw new IllegalArgumentException(key + "." + e.getKey() + " must have a value");
        }
        properties.put(e.getKey(), value);
      }
      return properties;
    }

    List<SaeDeployment> deployments() {
      JsonNode node = root.get("deployments");
      if (node == null || node.isNull()) {
        throw new IllegalArgumentException("deployments must list at least one SAE");
      }
      if (!node.isArray()) {
        throw new IllegalArgumentException("deployments must be a list, was " + node.getNodeType());
      }
      List<SaeDeployment> deployments = new ArrayList<>();
      for (int i = 0; i < node.size(); i++) {
        deployments.add(deployment("deployments[" + i + "]", node.get(i)));
      }
      return deployments;
    }

    private SaeDeployment deployment(String prefix, JsonNode node) {
      if (!node.isObject()) {
        throw new IllegalArgumentException(
            prefix + " must be a mapping, was " + node.getNodeType());
      }
      for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
        String field = it.next();
        if (!DEPLOYMENT_KEYS.contains(field)) {
          throw new IllegalArgumentException(
              "unknown configuration key '"
                  + prefix
                  + "."
                  + field
                  + "'; known: sae-id, path, model-id, hook-name, max-active, version");
        }
      }
      String saeId = scalarText(prefix + ".sae-id", node.get("sae-id"));
      String path = scalarText(prefix + ".path", node.get("path"));
      if (saeId == null) {
        throw new IllegalArgumentException(prefix + ".sae-id is required");
      }
      if (path == null) {
        throw new IllegalArgumentException(prefix + ".path is required");
      }
      String maxActive = scalarText(prefix + ".max-active", node.get("max-active"));
      String version = scalarText(prefix + ".version", node.get("version"));
      try {
        return new SaeDeployment(
            saeId,
            baseDir.resolve(path).normalize(),
            scalarText(prefix + ".model-id", node.get("model-id")),
            scalarText(prefix + ".hook-name", node.get("hook-name")),
            maxActive == null ? null : parseInt(prefix + ".max-active", maxActive),
            version == null ? 0 : parseLong(prefix + ".version", version));
      } catch (IllegalArgumentException e) {
        if (e.getMessage() != null && e.getMessage().startsWith(prefix)) {
          throw e;
        }
        throw new IllegalArgumentException(prefix + "." + e.getMessage(), e);
      }
    }

    private static @Nullable String scalarText(String key, @Nullable JsonNode node) {
      if (node == null || node.isNull()) {
        return null;
      }
      if (!node.isValueNode()) {
        throw new IllegalArgumentException(
            key + " must be a single value, was a " + node.getNodeType());
      }
      return node.asText();
    }

    private static int parseInt(String key, String text) {
      try {
        return Integer.parseInt(text.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(key + " must be an integer, was '" + text + "'", e);
      }
    }

    private static long parseLong(String key, String text) {
      try {
        return Long.parseLong(text.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(key + " must be an integer, was '" + text + "'", e);
      }
    }
  }

  /** Parses {@code 100ms}, {@code 30s}, {@code 5m}, {@code 1h} or ISO-8601 ({@code PT30S}). */
  public static Duration parseDuration(String key, String text) {
    String trimmed = text.trim();
    Matcher m = DURATION.matcher(trimmed);
    if (m.matches()) {
      long amount = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(amount);
        case "s" -> Duration.ofSeconds(amount);
        case "m" -> Duration.ofMinutes(amount);
        default -> Duration.ofHours(amount);
      };
    }
    try {
      return Duration.parse(trimmed);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          key + " must be a duration like 100ms, 30s, 5m, 1h or PT30S, was '" + text + "'", e);
    }
  }
}
