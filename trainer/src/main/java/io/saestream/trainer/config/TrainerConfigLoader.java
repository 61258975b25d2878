package io.saestream.trainer.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.saestream.sae.training.SparsityRule;
import io.saestream.schema.checkpoint.HmacKey;
import io.saestream.trainer.training.LearningRateSchedule;
import io.saestream.trainer.training.TrainingDevice;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
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
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a {@link TrainerConfig} from YAML and the environment, in the style of the streams app.
 *
 * <p>File layout (every key optional except {@code trainers}; defaults in brackets):
 *
 * <pre>
 * kafka:
 *   bootstrap-servers: localhost:9092      [localhost:9092]
 *   group-id: sae-stream-trainer           [sae-stream-trainer]
 *   properties:                            # passthrough Kafka client properties
 *     security.protocol: SASL_SSL
 * schema-registry:
 *   urls: http://localhost:8081            [http://localhost:8081] (comma-separated or a list)
 * topics:
 *   activations: sae.activations.v1        [sae.activations.v1]
 *   checkpoints: sae.checkpoints.v1        [sae.checkpoints.v1]
 * runtime:
 *   device: cpu                            [cpu] (cpu, cuda, auto)
 *   cuda-device-id: 0                      [0]
 *   intra-op-threads: 0                    [0] (ONNX Runtime decides)
 *   poll-timeout: 500ms                    [500ms]
 *   skip-log-every: 1000                   [1000]
 * state:                                   # durable state for resume (see StateStore)
 *   dir: state/                            [none] (relative to the file; none: no resume)
 *   every-steps: 500                       [500] (also saved at each publication and shutdown)
 *   keep: 2                                [2] (generations kept)
 * trainers:                                # at least one
 *   - sae-id: gpt2-small-8-online
 *     model-id: gpt2-small
 *     hook-name: blocks.8.hook_resid_pre
 *     d-in: 768
 *     d-sae: 24576
 *     k: 32
 *     rule: topk                           [topk] (topk, batchtopk)
 *     batch-size: 4096                     [4096]
 *     buffer-tokens: 32768                 [8 × batch-size]
 *     lr: 2e-4                             [2e-4]
 *     warmup-steps: 1000                   [1000]
 *     decay: none                          [none] (none, cosine, linear)
 *     decay-steps: 0                       [0] (required > 0 unless decay is none)
 *     final-lr-fraction: 0.0               [0.0]
 *     dead-window: 10000000                [10000000] (tokens)
 *     eval-every: 10                       [10] (every Nth batch held out; 0 never)
 *     publish-every-tokens: 10000000       [10000000]
 *     publish-every: 10m                   [10m] (ms, s, m, h or ISO-8601)
 *     output-dir: checkpoints/             [none] (relative to the file)
 *     seed: 42                             [42]
 * </pre>
 *
 * <p>Unknown keys are errors. Environment overrides: every scalar key outside {@code trainers} has
 * a variable {@code SAE_STREAM_<KEY>} (upper-cased, '.' and '-' turned into '_', e.g. {@code
 * SAE_STREAM_KAFKA_BOOTSTRAP_SERVERS}); {@code SAE_STREAM_KAFKA_PROPERTIES_<NAME>} sets Kafka
 * property {@code <name>} lower-cased with '_' turned into '.'. The checkpoint signing key comes
 * only from {@code SAE_STREAM_CHECKPOINTS_HMAC_KEY} (its UTF-8 bytes, at least 32) and is never
 * logged. Other {@code SAE_STREAM_*} variables are ignored with a warning. Stateless.
 */
public final class TrainerConfigLoader {

  /** Prefix of the environment variables read. */
  public static final String ENV_PREFIX = "SAE_STREAM_";

  /** The variable holding the checkpoint signing key. */
  public static final String HMAC_KEY_ENV = ENV_PREFIX + "CHECKPOINTS_HMAC_KEY";

  private static final String PROPERTIES_ENV_PREFIX = ENV_PREFIX + "KAFKA_PROPERTIES_";
  private static final Logger LOG = LoggerFactory.getLogger(TrainerConfigLoader.class);
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)");

  private static final Map<String, List<String>> SECTIONS = sections();

  private static final Set<String> TRAINER_KEYS =
      Set.of(
          "sae-id",
          "model-id",
          "hook-name",
          "d-in",
          "d-sae",
          "k",
          "rule",
          "batch-size",
          "buffer-tokens",
          "lr",
          "warmup-steps",
          "decay",
          "decay-steps",
          "final-lr-fraction",
          "dead-window",
          "eval-every",
          "publish-every-tokens",
          "publish-every",
          "output-dir",
          "seed");

  private TrainerConfigLoader() {}

  private static Map<String, List<String>> sections() {
    Map<String, List<String>> m = new LinkedHashMap<>();
    m.put("kafka", List.of("bootstrap-servers", "group-id"));
    m.put("schema-registry", List.of("urls"));
    m.put("topics", List.of("activations", "checkpoints"));
    m.put(
        "runtime",
        List.of("device", "cuda-device-id", "intra-op-threads", "poll-timeout", "skip-log-every"));
    m.put("state", List.of("dir", "every-steps", "keep"));
    return m;
  }

  /**
   * Reads {@code file}, then applies {@code environment}.
   *
   * @throws IllegalArgumentException naming the file and the key when a value is bad
   * @throws UncheckedIOException when the file cannot be read
   */
  public static TrainerConfig load(Path file, Map<String, String> environment) {
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
   *
   * @throws IllegalArgumentException naming the key when a value is bad
   */
  public static TrainerConfig parse(String text, Path baseDir, Map<String, String> environment) {
    ObjectNode root = readTree(text);
    applyEnvironment(root, environment);
    checkKnownKeys(root);
    KafkaSettings kafka =
        new KafkaSettings(
            string(root, "kafka", "bootstrap-servers", "localhost:9092"),
            string(root, "kafka", "group-id", KafkaSettings.DEFAULT_GROUP_ID),
            properties(root));
    List<URI> urls = urls(string(root, "schema-registry", "urls", "http://localhost:8081"));
    TopicSettings topics =
        new TopicSettings(
            string(root, "topics", "activations", TopicSettings.DEFAULT_ACTIVATIONS),
            string(root, "topics", "checkpoints", TopicSettings.DEFAULT_CHECKPOINTS));
    RuntimeSettings d = RuntimeSettings.defaults();
    RuntimeSettings runtime =
        new RuntimeSettings(
            parseEnum(
                TrainingDevice.class,
                "runtime.device",
                string(root, "runtime", "device", d.device().name())),
            intValue(
                section(root, "runtime").get("cuda-device-id"),
                "runtime.cuda-device-id",
                d.cudaDeviceId()),
            intValue(
                section(root, "runtime").get("intra-op-threads"),
                "runtime.intra-op-threads",
                d.intraOpThreads()),
            duration(
                section(root, "runtime").get("poll-timeout"),
                "runtime.poll-timeout",
                d.pollTimeout()),
            integer(
                section(root, "runtime").get("skip-log-every"),
                "runtime.skip-log-every",
                d.skipLogEvery()));
    HmacKey key = null;
    String secret = environment.get(HMAC_KEY_ENV);
    if (secret != null && !secret.isEmpty()) {
      try {
        key = HmacKey.fromText(secret);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(HMAC_KEY_ENV + ": " + e.getMessage(), e);
      }
    }
    StateSettings stateDefaults = StateSettings.defaults();
    String stateDir = optionalString(section(root, "state").get("dir"), "state.dir");
    StateSettings state =
        new StateSettings(
            stateDir == null || stateDir.isBlank() ? null : baseDir.resolve(stateDir).normalize(),
            integer(
                section(root, "state").get("every-steps"),
                "state.every-steps",
                stateDefaults.everySteps()),
            intValue(section(root, "state").get("keep"), "state.keep", stateDefaults.keep()));
    return new TrainerConfig(kafka, urls, topics, runtime, state, trainers(root, baseDir), key);
  }

  /** The environment variable that overrides {@code dottedKey}. */
  public static String environmentVariable(String dottedKey) {
    return ENV_PREFIX + dottedKey.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
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
    if (!(node instanceof ObjectNode o)) {
      throw new IllegalArgumentException("the configuration must be a YAML mapping");
    }
    return o;
  }

  private static void applyEnvironment(ObjectNode root, Map<String, String> environment) {
    Map<String, String> variables = new TreeMap<>();
    for (Map.Entry<String, List<String>> s : SECTIONS.entrySet()) {
      for (String key : s.getValue()) {
        variables.put(environmentVariable(s.getKey() + "." + key), s.getKey() + "." + key);
      }
    }
    for (Map.Entry<String, String> e : new TreeMap<>(environment).entrySet()) {
      String name = e.getKey();
      if (!name.startsWith(ENV_PREFIX) || name.equals(HMAC_KEY_ENV)) {
        continue;
      }
      String target = variables.get(name);
      if (target != null) {
        int dot = target.indexOf('.');
        writableSection(root, target.substring(0, dot))
            .put(target.substring(dot + 1), e.getValue());
      } else if (name.startsWith(PROPERTIES_ENV_PREFIX)
          && name.length() > PROPERTIES_ENV_PREFIX.length()) {
        String property =
            name.substring(PROPERTIES_ENV_PREFIX.length())
                .toLowerCase(Locale.ROOT)
                .replace('_', '.');
        ObjectNode kafka = writableSection(root, "kafka");
        JsonNode props = kafka.get("properties");
        ObjectNode target2 = props instanceof ObjectNode o ? o : kafka.putObject("properties");
        target2.put(property, e.getValue());
      } else {
        LOG.warn("ignoring environment variable {}: no such trainer configuration key", name);
      }
    }
  }

  private static ObjectNode writableSection(ObjectNode root, String name) {
    JsonNode node = root.get(name);
    if (node instanceof ObjectNode o) {
      return o;
    }
    if (node != null && !node.isNull()) {
      throw new IllegalArgumentException(name + " must be a mapping");
    }
    return root.putObject(name);
  }

  private static void checkKnownKeys(ObjectNode root) {
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (name.equals("trainers")) {
        continue;
      }
      List<String> keys = SECTIONS.get(name);
      if (keys == null) {
        throw new IllegalArgumentException(
            "unknown key " + name + " (known: " + SECTIONS.keySet() + ", trainers)");
      }
      JsonNode section = root.get(name);
      if (section == null || section.isNull()) {
        continue;
      }
      if (!section.isObject()) {
        throw new IllegalArgumentException(name + " must be a mapping");
      }
      for (Iterator<String> keyIt = section.fieldNames(); keyIt.hasNext(); ) {
        String key = keyIt.next();
        if (key.equals("hmac-key")) {
          throw new IllegalArgumentException(
              name
                  + ".hmac-key must not be written in the configuration file; set "
                  + HMAC_KEY_ENV);
        }
        if (!keys.contains(key) && !(name.equals("kafka") && key.equals("properties"))) {
          throw new IllegalArgumentException(
              "unknown key " + name + "." + key + " (known: " + keys + ")");
        }
      }
    }
  }

  private static ObjectNode section(ObjectNode root, String name) {
    JsonNode node = root.get(name);
    return node instanceof ObjectNode o ? o : JsonNodeFactory.instance.objectNode();
  }

  private static String string(ObjectNode root, String section, String key, String def) {
    String v = optionalString(section(root, section).get(key), section + "." + key);
    return v == null ? def : v;
  }

  private static @Nullable String optionalString(@Nullable JsonNode node, String key) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isValueNode()) {
      throw new IllegalArgumentException(key + " must be a single value, was " + node);
    }
    return node.asText();
  }

  private static Map<String, String> properties(ObjectNode root) {
    JsonNode props = section(root, "kafka").get("properties");
    Map<String, String> out = new TreeMap<>();
    if (props == null || props.isNull()) {
      return out;
    }
    if (!props.isObject()) {
      throw new IllegalArgumentException("kafka.properties must be a mapping");
    }
    for (Map.Entry<String, JsonNode> e : props.properties()) {
      String v = optionalString(e.getValue(), "kafka.properties." + e.getKey());
      if (v == null) {
        throw new IllegalArgumentException("kafka.properties." + e.getKey() + " must have a value");
      }
      out.put(e.getKey(), v);
    }
    return out;
  }

  private static List<URI> urls(String text) {
    List<URI> out = new ArrayList<>();
    for (String part : text.split(",", -1)) {
      String s = part.trim();
      if (s.isEmpty()) {
        continue;
      }
      try {
        URI uri = new URI(s);
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
          throw new IllegalArgumentException("schema-registry.urls must be http(s) URLs, was " + s);
        }
        out.add(uri);
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("schema-registry.urls: not a URL: " + s, e);
      }
    }
    return out;
  }

  private static long integer(@Nullable JsonNode node, String key, long def) {
    String text = optionalString(node, key);
    if (text == null) {
      return def;
    }
    try {
      return Long.parseLong(text.trim().replace("_", ""));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be an integer, was '" + text + "'", e);
    }
  }

  private static double number(@Nullable JsonNode node, String key, double def) {
    String text = optionalString(node, key);
    if (text == null) {
      return def;
    }
    try {
      double v = Double.parseDouble(text.trim());
      if (!Double.isFinite(v)) {
        throw new IllegalArgumentException(key + " must be finite, was " + text);
      }
      return v;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be a number, was '" + text + "'", e);
    }
  }

  private static int intValue(@Nullable JsonNode node, String key, int def) {
    long v = integer(node, key, def);
    if (v != (int) v) {
      throw new IllegalArgumentException(key + " must fit in 32 bits, was " + v);
    }
    return (int) v;
  }

  private static Duration duration(@Nullable JsonNode node, String key, Duration def) {
    String text = optionalString(node, key);
    if (text == null) {
      return def;
    }
    String t = text.trim();
    Matcher m = DURATION.matcher(t);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofHours(n);
      };
    }
    try {
      return Duration.parse(t);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          key + " must be a duration like 500ms, 30s, 10m, 1h or PT10M, was '" + text + "'", e);
    }
  }

  private static <E extends Enum<E>> E parseEnum(Class<E> type, String key, String text) {
    String norm = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
    for (E e : type.getEnumConstants()) {
      if (e.name().equals(norm)) {
        return e;
      }
    }
    List<String> names = new ArrayList<>();
    for (E e : type.getEnumConstants()) {
      names.add(e.name().toLowerCase(Locale.ROOT));
    }
    throw new IllegalArgumentException(key + " must be one of " + names + ", was '" + text + "'");
  }

  private static List<SaeTrainerConfig> trainers(ObjectNode root, Path baseDir) {
    JsonNode node = root.get("trainers");
    if (node == null || node.isNull()) {
      throw new IllegalArgumentException("trainers must list at least one SAE");
    }
    if (!(node instanceof ArrayNode list)) {
      throw new IllegalArgumentException("trainers must be a list");
    }
    List<SaeTrainerConfig> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      String prefix = "trainers[" + i + "].";
      if (!(list.get(i) instanceof ObjectNode entry)) {
        throw new IllegalArgumentException("trainers[" + i + "] must be a mapping");
      }
      try {
        out.add(trainer(entry, baseDir));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(prefix + e.getMessage(), e);
      }
    }
    return out;
  }

  private static SaeTrainerConfig trainer(ObjectNode e, Path baseDir) {
    for (Iterator<String> it = e.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!TRAINER_KEYS.contains(key)) {
        throw new IllegalArgumentException(
            "unknown key " + key + " (known: " + new TreeSet<>(TRAINER_KEYS) + ")");
      }
    }
    String saeId = required(e, "sae-id");
    String rule = optionalString(e.get("rule"), "rule");
    SparsityRule sparsity =
        rule == null
            ? SparsityRule.TOPK
            : parseEnum(
                SparsityRule.class,
                "rule",
                rule.equalsIgnoreCase("batchtopk") ? "batch_topk" : rule);
    int batchSize = intValue(e.get("batch-size"), "batch-size", 4096);
    String decayText = optionalString(e.get("decay"), "decay");
    LearningRateSchedule.Decay decay =
        decayText == null
            ? LearningRateSchedule.Decay.NONE
            : parseEnum(LearningRateSchedule.Decay.class, "decay", decayText);
    double lr = number(e.get("lr"), "lr", 2e-4);
    long warmup = integer(e.get("warmup-steps"), "warmup-steps", 1000);
    long decaySteps = integer(e.get("decay-steps"), "decay-steps", 0);
    double finalFraction = number(e.get("final-lr-fraction"), "final-lr-fraction", 0.0);
    LearningRateSchedule schedule = schedule(lr, warmup, decay, decaySteps, finalFraction);
    String out = optionalString(e.get("output-dir"), "output-dir");
    return new SaeTrainerConfig(
        saeId,
        required(e, "model-id"),
        required(e, "hook-name"),
        intValue(requiredNode(e, "d-in"), "d-in", 0),
        intValue(requiredNode(e, "d-sae"), "d-sae", 0),
        number(requiredNode(e, "k"), "k", 0),
        sparsity,
        batchSize,
        intValue(
            e.get("buffer-tokens"),
            "buffer-tokens",
            (int) Math.min(Integer.MAX_VALUE, 8L * batchSize)),
        schedule,
        integer(e.get("dead-window"), "dead-window", 10_000_000),
        intValue(e.get("eval-every"), "eval-every", 10),
        integer(e.get("publish-every-tokens"), "publish-every-tokens", 10_000_000),
        duration(e.get("publish-every"), "publish-every", Duration.ofMinutes(10)),
        out == null ? null : baseDir.resolve(out).normalize(),
        integer(e.get("seed"), "seed", 42));
  }

  // LearningRateSchedule names its fields in snake case; the file's keys are kebab case.
  private static LearningRateSchedule schedule(
      double lr, long warmup, LearningRateSchedule.Decay decay, long decaySteps, double fraction) {
    if (!(lr > 0)) {
      throw new IllegalArgumentException("lr must be > 0, was " + lr);
    }
    if (warmup < 0) {
      throw new IllegalArgumentException("warmup-steps must be >= 0, was " + warmup);
    }
    if (decay != LearningRateSchedule.Decay.NONE && decaySteps <= 0) {
      throw new IllegalArgumentException(
          "decay-steps must be > 0 for decay "
              + decay.name().toLowerCase(Locale.ROOT)
              + ", was "
              + decaySteps);
    }
    if (!(fraction >= 0 && fraction <= 1)) {
      throw new IllegalArgumentException("final-lr-fraction must be in [0, 1], was " + fraction);
    }
    return new LearningRateSchedule(lr, warmup, decay, decaySteps, fraction);
  }

  private static JsonNode requiredNode(ObjectNode e, String key) {
    JsonNode n = e.get(key);
    if (n == null || n.isNull()) {
      throw new IllegalArgumentException(key + " is required");
    }
    return n;
  }

  private static String required(ObjectNode e, String key) {
    String v = optionalString(requiredNode(e, key), key);
    if (v == null) {
      throw new IllegalArgumentException(key + " is required");
    }
    return v;
  }
}
