package io.saestream.trainer.config;

import io.saestream.config.ConfigLayout;
import io.saestream.config.ConfigTree;
import io.saestream.sae.training.SparsityRule;
import io.saestream.schema.checkpoint.HmacKey;
import io.saestream.trainer.training.LearningRateSchedule;
import io.saestream.trainer.training.TrainingDevice;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

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
 * logged. Other {@code SAE_STREAM_*} variables are ignored with a warning, except the process-wide
 * ones ({@link ConfigLayout#PROCESS_VARIABLES}). Stateless.
 */
public final class TrainerConfigLoader {

  /** Prefix of the environment variables read. */
  public static final String ENV_PREFIX = ConfigLayout.ENV_PREFIX;

  /** The variable holding the checkpoint signing key. */
  public static final String HMAC_KEY_ENV = ENV_PREFIX + "CHECKPOINTS_HMAC_KEY";

  private static final ConfigLayout LAYOUT = layout();

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

  private static ConfigLayout layout() {
    ConfigLayout.Builder b =
        ConfigLayout.builder("trainer", TrainerConfigLoader.class)
            .section("kafka", "bootstrap-servers", "group-id")
            .propertyMap("kafka.properties")
            .section("schema-registry", "urls")
            .section("topics", "activations", "checkpoints")
            .section(
                "runtime",
                "device",
                "cuda-device-id",
                "intra-op-threads",
                "poll-timeout",
                "skip-log-every")
            .section("state", "dir", "every-steps", "keep")
            .entries("trainers")
            .readsElsewhere(HMAC_KEY_ENV)
            .unknownKeyMessage((key, known) -> "unknown key " + key + " (known: " + known + ")");
    // The signing key is a secret; whichever section it is written in, say where it belongs.
    for (String section : List.of("kafka", "schema-registry", "topics", "runtime", "state")) {
      b.secret(section + ".hmac-key", "set " + HMAC_KEY_ENV);
    }
    return b.build();
  }

  /**
   * Reads {@code file}, then applies {@code environment}.
   *
   * @throws IllegalArgumentException naming the file and the key when a value is bad
   * @throws UncheckedIOException when the file cannot be read
   */
  public static TrainerConfig load(Path file, Map<String, String> environment) {
    return LAYOUT.load(file, environment, t -> config(t, environment));
  }

  /**
   * Parses YAML {@code text}, resolving relative paths against {@code baseDir}, then applies {@code
   * environment}.
   *
   * @throws IllegalArgumentException naming the key when a value is bad
   */
  public static TrainerConfig parse(String text, Path baseDir, Map<String, String> environment) {
    return config(LAYOUT.read(text, baseDir, environment), environment);
  }

  /** The environment variable that overrides {@code dottedKey}. */
  public static String environmentVariable(String dottedKey) {
    return ConfigLayout.environmentVariable(dottedKey);
  }

  private static TrainerConfig config(ConfigTree t, Map<String, String> environment) {
    KafkaSettings kafka =
        new KafkaSettings(
            t.string("kafka.bootstrap-servers", "localhost:9092"),
            t.string("kafka.group-id", KafkaSettings.DEFAULT_GROUP_ID),
            t.properties("kafka.properties"));
    List<URI> urls = urls(t.string("schema-registry.urls", "http://localhost:8081"));
    TopicSettings topics =
        new TopicSettings(
            t.string("topics.activations", TopicSettings.DEFAULT_ACTIVATIONS),
            t.string("topics.checkpoints", TopicSettings.DEFAULT_CHECKPOINTS));
    RuntimeSettings d = RuntimeSettings.defaults();
    RuntimeSettings runtime =
        new RuntimeSettings(
            parseEnum(
                TrainingDevice.class,
                "runtime.device",
                t.string("runtime.device", d.device().name())),
            t.integer("runtime.cuda-device-id", d.cudaDeviceId()),
            t.integer("runtime.intra-op-threads", d.intraOpThreads()),
            t.duration("runtime.poll-timeout", d.pollTimeout()),
            t.longInteger("runtime.skip-log-every", d.skipLogEvery()));
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
    String stateDir = t.optionalString("state.dir");
    StateSettings state =
        new StateSettings(
            stateDir == null || stateDir.isBlank() ? null : t.resolve(stateDir),
            t.longInteger("state.every-steps", stateDefaults.everySteps()),
            t.integer("state.keep", stateDefaults.keep()));
    List<SaeTrainerConfig> trainers = new ArrayList<>();
    for (ConfigTree entry : t.entries("trainers")) {
      try {
        trainers.add(trainer(entry));
      } catch (IllegalArgumentException e) {
        throw entry.named(e);
      }
    }
    return new TrainerConfig(kafka, urls, topics, runtime, state, trainers, key);
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

  private static SaeTrainerConfig trainer(ConfigTree e) {
    for (String key : e.keys()) {
      if (!TRAINER_KEYS.contains(key)) {
        throw LAYOUT.unknownKey(key, new TreeSet<>(TRAINER_KEYS));
      }
    }
    String saeId = e.requiredString("sae-id");
    String rule = e.optionalString("rule");
    SparsityRule sparsity =
        rule == null
            ? SparsityRule.TOPK
            : parseEnum(
                SparsityRule.class,
                "rule",
                rule.equalsIgnoreCase("batchtopk") ? "batch_topk" : rule);
    int batchSize = e.integer("batch-size", 4096);
    String decayText = e.optionalString("decay");
    LearningRateSchedule.Decay decay =
        decayText == null
            ? LearningRateSchedule.Decay.NONE
            : parseEnum(LearningRateSchedule.Decay.class, "decay", decayText);
    LearningRateSchedule schedule =
        schedule(
            e.number("lr", 2e-4),
            e.longInteger("warmup-steps", 1000),
            decay,
            e.longInteger("decay-steps", 0),
            e.number("final-lr-fraction", 0.0));
    return new SaeTrainerConfig(
        saeId,
        e.requiredString("model-id"),
        e.requiredString("hook-name"),
        e.requiredInteger("d-in"),
        e.requiredInteger("d-sae"),
        e.requiredNumber("k"),
        sparsity,
        batchSize,
        e.integer("buffer-tokens", (int) Math.min(Integer.MAX_VALUE, 8L * batchSize)),
        schedule,
        e.longInteger("dead-window", 10_000_000),
        e.integer("eval-every", 10),
        e.longInteger("publish-every-tokens", 10_000_000),
        e.duration("publish-every", Duration.ofMinutes(10)),
        e.optionalPath("output-dir"),
        e.longInteger("seed", 42));
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
}
