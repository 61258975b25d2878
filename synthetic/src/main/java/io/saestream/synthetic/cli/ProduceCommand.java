package io.saestream.synthetic.cli;

import io.saestream.schema.registry.SchemaRegistryClientConfig;
import io.saestream.schema.v1.Dtype;
import io.saestream.synthetic.GroundTruthConfig;
import io.saestream.synthetic.GroundTruthModel;
import io.saestream.synthetic.encoding.ActivationCodec;
import io.saestream.synthetic.encoding.NpyActivationFile;
import io.saestream.synthetic.incident.CompactDuration;
import io.saestream.synthetic.incident.IncidentSchedule;
import io.saestream.synthetic.produce.ActivationBatchTemplate;
import io.saestream.synthetic.produce.BatchSource;
import io.saestream.synthetic.produce.GeneratedBatchSource;
import io.saestream.synthetic.produce.ProduceLimits;
import io.saestream.synthetic.produce.ProduceSummary;
import io.saestream.synthetic.produce.ProducerSettings;
import io.saestream.synthetic.produce.ReplayBatchSource;
import io.saestream.synthetic.produce.SyntheticProducer;
import io.saestream.synthetic.sequence.SequenceConfig;
import io.saestream.synthetic.sequence.SequenceGenerator;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * {@code sae-stream produce}: writes synthetic activations with a known ground-truth dictionary, or
 * activations replayed from a {@code .npy} file, to Kafka as {@code ActivationBatch} records.
 *
 * <p>Options resolve in order: command line, environment ({@code SAE_STREAM_<OPTION>}), config file
 * ({@code --config}, a {@code .properties} file keyed by option name, plus {@code kafka.*} producer
 * properties), default. One instance serves one invocation.
 */
@Command(
    name = "produce",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Produce synthetic LLM activations (sparse ground-truth features in superposition, Zipf"
          + " frequencies, per-sequence topics, scheduled incidents) or replay recorded ones, to"
          + " Kafka as ActivationBatch records keyed by sequence id.",
    },
    footer = {
      "",
      "Every option except --help and --version can also be set by an environment variable"
          + " SAE_STREAM_<OPTION> (e.g. SAE_STREAM_BOOTSTRAP_SERVERS, SAE_STREAM_D_IN) or by a key"
          + " in the --config file (e.g. d-in=768); kafka.<property> keys in the file are"
          + " producer properties. Precedence: command line, environment, file, default.",
      "",
      "Incidents: burst@TIME:feature=F[,tokens=C][,magnitude=M] makes feature F fire with"
          + " magnitude M (default 10) in C (default 16) consecutive tokens of the next sequence"
          + " that produces after TIME; drift@TIME+DURATION[:scale=S] adds a direction outside"
          + " the dictionary, S (default 3) times the typical signal norm, to every token for"
          + " DURATION. TIME counts from the start. Separate incidents with ';', e.g."
          + " 'burst@30s:feature=17,tokens=20;drift@60s+20s:scale=3'.",
      "",
      "Replay files are NumPy .npy arrays [tokens, d_in] of '<f4' or '<f2' in C order, e.g."
          + " numpy.save('acts.npy', acts.astype('<f4')).",
      "",
      "Large records need a topic with max.message.bytes >= the record size (256 tokens x 4096"
          + " F32 = 4 MiB; broker default about 1 MiB).",
      "",
      "Exit codes: 0 done, 1 runtime error (broker, registry, file), 2 usage error."
    })
public final class ProduceCommand implements Callable<Integer> {

  private static final Logger LOG = LoggerFactory.getLogger(ProduceCommand.class);

  static final String DEFAULT_BOOTSTRAP_SERVERS = "localhost:9092";
  static final String DEFAULT_REGISTRY_URL = "http://localhost:8081";
  static final String DEFAULT_MODEL_ID = "synthetic-llm";
  static final String DEFAULT_HOOK_NAME = "blocks.8.hook_resid_pre";
  static final int DEFAULT_D_IN = 512;
  static final int DEFAULT_FEATURES = 4096;
  static final long DEFAULT_SEED = 42;
  static final int DEFAULT_TOKENS_PER_RECORD = 64;
  static final int DEFAULT_REPLAY_SEQUENCE_LENGTH = 1024;
  static final String DEFAULT_TENANT = "synthetic";
  static final String KAFKA_PREFIX = "kafka.";
  private static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(30);

  /** Avro framing and the other fields of a record, generously: names, tokens, attributes. */
  private static final int RECORD_OVERHEAD_BYTES = 64 * 1024;

  /** Runs resolved settings; tests substitute one that needs no Kafka. */
  @FunctionalInterface
  interface Runner {
    ProduceSummary run(ProduceSettings settings, PrintWriter out) throws Exception;
  }

  @Spec @Nullable CommandSpec spec;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "Properties file of option defaults (keys: option names, e.g. d-in=768; kafka.* producer properties).")
  @Nullable String config;

  @Option(
      names = "--bootstrap-servers",
      paramLabel = "HOST:PORT[,...]",
      description = "Kafka bootstrap servers (default: " + DEFAULT_BOOTSTRAP_SERVERS + ").")
  @Nullable String bootstrapServers;

  @Option(
      names = "--registry-url",
      paramLabel = "URL[,URL...]",
      description =
          "Schema registry URL(s), Confluent REST API (default: " + DEFAULT_REGISTRY_URL + ").")
  @Nullable String registryUrl;

  @Option(
      names = "--topic",
      paramLabel = "TOPIC",
      description = "Topic to write (default: " + ProducerSettings.DEFAULT_TOPIC + ").")
  @Nullable String topic;

  @Option(
      names = "--model-id",
      paramLabel = "ID",
      description = "model_id of the records (default: " + DEFAULT_MODEL_ID + ").")
  @Nullable String modelId;

  @Option(
      names = "--hook-name",
      paramLabel = "HOOK",
      description = "sae-lens hook_name of the records (default: " + DEFAULT_HOOK_NAME + ").")
  @Nullable String hookName;

  @Option(
      names = "--d-in",
      paramLabel = "N",
      description =
          "Activation width (default: "
              + DEFAULT_D_IN
              + "; with --replay, checked against the file).")
  @Nullable String dIn;

  @Option(
      names = "--features",
      paramLabel = "F",
      description =
          "Ground-truth features; more than --d-in puts them in superposition (default: "
              + DEFAULT_FEATURES
              + ").")
  @Nullable String features;

  @Option(
      names = "--mean-active",
      paramLabel = "L0",
      description =
          "Mean active features per token (default: "
              + GroundTruthConfig.DEFAULT_MEAN_ACTIVE
              + ").")
  @Nullable String meanActive;

  @Option(
      names = "--zipf-exponent",
      paramLabel = "ALPHA",
      description =
          "Feature i fires with probability proportional to 1/(i+1)^ALPHA (default: "
              + GroundTruthConfig.DEFAULT_ZIPF_EXPONENT
              + ").")
  @Nullable String zipfExponent;

  @Option(
      names = "--snr",
      paramLabel = "RATIO",
      description =
          "Signal-to-noise power ratio, linear; 'inf' for no noise (default: "
              + GroundTruthConfig.DEFAULT_SNR
              + ").")
  @Nullable String snr;

  @Option(
      names = "--seed",
      paramLabel = "N",
      description =
          "Seed of the dictionary and the traffic; the same seed and schedule give the same records (default: "
              + DEFAULT_SEED
              + ").")
  @Nullable String seed;

  @Option(
      names = "--tokens-per-record",
      paramLabel = "N",
      description = "Tokens per record (default: " + DEFAULT_TOKENS_PER_RECORD + ").")
  @Nullable String tokensPerRecord;

  @Option(
      names = "--rate",
      paramLabel = "TOKENS_PER_S",
      description = "Average tokens per second; 0 for as fast as possible (default: 0).")
  @Nullable String rate;

  @Option(
      names = "--duration",
      paramLabel = "DURATION",
      description = "Stop after this long, e.g. 30s, 5m (default: no limit).")
  @Nullable String duration;

  @Option(
      names = "--count",
      paramLabel = "RECORDS",
      description =
          "Stop after this many records (default: no limit). Without --count and --duration, runs until interrupted or the replay file ends.")
  @Nullable String count;

  @Option(
      names = "--dtype",
      paramLabel = "DTYPE",
      description = "Encoding of the activations: F32, F16 or BF16 (default: F32).")
  @Nullable String dtype;

  @Option(
      names = "--incidents",
      paramLabel = "SPEC",
      description =
          "Scheduled incidents, e.g. 'burst@30s:feature=17,tokens=20;drift@60s+20s:scale=3' (default: none).")
  @Nullable String incidents;

  @Option(
      names = "--replay",
      paramLabel = "FILE.npy",
      description =
          "Replay activations from a .npy file instead of generating them; the model options are then unused.")
  @Nullable String replay;

  @Option(
      names = "--replay-sequence-length",
      paramLabel = "N",
      description =
          "With --replay: rows per sequence (default: " + DEFAULT_REPLAY_SEQUENCE_LENGTH + ").")
  @Nullable String replaySequenceLength;

  @Option(
      names = "--tenant",
      paramLabel = "NAME",
      description = "The 'tenant' attribute of the records (default: " + DEFAULT_TENANT + ").")
  @Nullable String tenant;

  @Option(
      names = "--linger",
      paramLabel = "DURATION",
      description = "Producer linger.ms (default: 5ms).")
  @Nullable String linger;

  @Option(
      names = "--batch-size",
      paramLabel = "BYTES",
      description =
          "Producer batch.size (default: " + ProducerSettings.DEFAULT_BATCH_SIZE_BYTES + ").")
  @Nullable String batchSize;

  @Option(
      names = "--max-request-size",
      paramLabel = "BYTES",
      description =
          "Producer max.request.size, the largest record (default: "
              + ProducerSettings.DEFAULT_MAX_REQUEST_SIZE_BYTES
              + ").")
  @Nullable String maxRequestSize;

  @Option(
      names = "--compression",
      paramLabel = "TYPE",
      description = "none, gzip, snappy, lz4 or zstd (default: none).")
  @Nullable String compression;

  @Option(
      names = "--producer-property",
      paramLabel = "KEY=VALUE",
      description = "Extra Kafka producer property (repeatable), e.g. security.protocol=SSL.")
  Map<String, String> producerProperties = new LinkedHashMap<>();

  private final Map<String, String> env;
  private final Runner runner;

  /** The command as the launcher runs it: real environment, real Kafka. */
  public ProduceCommand() {
    this(System.getenv(), ProduceCommand::execute);
  }

  /** For tests: another environment and runner. */
  ProduceCommand(Map<String, String> env, Runner runner) {
    this.env = Map.copyOf(env);
    this.runner = runner;
  }

  /** The command line with this module's error handling, for running {@code produce} alone. */
  public static CommandLine commandLine() {
    return ProduceExceptionHandler.install(new CommandLine(new ProduceCommand()));
  }

  /** Runs {@code produce} alone and exits with its exit code. */
  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  @Override
  public Integer call() throws Exception {
    CommandSpec s = requireSpec();
    ProduceSettings settings = resolve(s.commandLine());
    runner.run(settings, s.commandLine().getOut());
    return 0;
  }

  /** Resolves every setting from the command line, environment, config file and defaults. */
  ProduceSettings resolve(CommandLine cl) {
    Map<String, String> given = givenOptions(cl);
    Path configFile = configPath(cl, given);
    Properties fileProperties =
        configFile == null ? new Properties() : loadProperties(cl, configFile);
    OptionSources o = sources(cl, given, configFile, fileProperties);
    Map<String, String> kafkaProperties = new LinkedHashMap<>();
    for (String key : new TreeSet<>(fileProperties.stringPropertyNames())) {
      if (key.startsWith(KAFKA_PREFIX) && key.length() > KAFKA_PREFIX.length()) {
        kafkaProperties.put(key.substring(KAFKA_PREFIX.length()), fileProperties.getProperty(key));
      }
    }
    kafkaProperties.putAll(producerProperties);

    Dtype type =
        o.convert(
            "dtype", Dtype.F32, "F32, F16 or BF16", v -> Dtype.valueOf(v.toUpperCase(Locale.ROOT)));
    int tokens = o.positiveInt("tokens-per-record", DEFAULT_TOKENS_PER_RECORD);
    try {
      SchemaRegistryClientConfig registry =
          o.convert(
              "registry-url",
              SchemaRegistryClientConfig.of(DEFAULT_REGISTRY_URL),
              "one or more comma-separated http(s) URLs",
              SchemaRegistryClientConfig::of);
      ProducerSettings producer =
          new ProducerSettings(
              o.text("bootstrap-servers", DEFAULT_BOOTSTRAP_SERVERS),
              registry,
              o.text("topic", ProducerSettings.DEFAULT_TOPIC),
              o.convert(
                  "linger", ProducerSettings.DEFAULT_LINGER, "a duration", CompactDuration::parse),
              o.convert(
                  "batch-size",
                  ProducerSettings.DEFAULT_BATCH_SIZE_BYTES,
                  "an integer",
                  Integer::parseInt),
              o.positiveInt("max-request-size", ProducerSettings.DEFAULT_MAX_REQUEST_SIZE_BYTES),
              o.text("compression", "none"),
              "sae-stream-produce",
              kafkaProperties);

      ProduceLimits limits =
          new ProduceLimits(
              o.positiveLong("count", ProduceLimits.UNLIMITED),
              o.isSet("duration")
                  ? o.convert(
                      "duration",
                      Duration.ZERO,
                      "a duration such as 30s or 5m",
                      CompactDuration::parse)
                  : null,
              o.number("rate", 0.0, 0.0, false));

      ActivationBatchTemplate template =
          new ActivationBatchTemplate(
              o.text("model-id", DEFAULT_MODEL_ID),
              o.text("hook-name", DEFAULT_HOOK_NAME),
              type,
              Map.of("tenant", o.text("tenant", DEFAULT_TENANT)));

      long seedValue = o.convert("seed", DEFAULT_SEED, "an integer", Long::parseLong);
      ProduceSettings.Source source;
      if (o.isSet("replay")) {
        if (o.isSet("incidents")) {
          throw o.usage("--incidents needs generated traffic and cannot be combined with --replay");
        }
        source =
            new ProduceSettings.Replay(
                Path.of(o.text("replay", "")),
                o.isSet("d-in") ? o.positiveInt("d-in", DEFAULT_D_IN) : null,
                tokens,
                o.positiveInt("replay-sequence-length", DEFAULT_REPLAY_SEQUENCE_LENGTH),
                "replay-" + seedValue + "-");
      } else {
        int width = o.positiveInt("d-in", DEFAULT_D_IN);
        int featureCount = o.positiveInt("features", DEFAULT_FEATURES);
        GroundTruthConfig model =
            GroundTruthConfig.defaults(width, featureCount, seedValue)
                .withZipfExponent(
                    o.number("zipf-exponent", GroundTruthConfig.DEFAULT_ZIPF_EXPONENT, 0.0, false))
                .withSnr(
                    o.convert(
                        "snr",
                        GroundTruthConfig.DEFAULT_SNR,
                        "a number > 0 or inf",
                        ProduceCommand::parseSnr))
                .withMeanActive(
                    o.number("mean-active", GroundTruthConfig.DEFAULT_MEAN_ACTIVE, 0.0, true));
        IncidentSchedule schedule =
            o.convert(
                "incidents",
                IncidentSchedule.none(),
                "an incident schedule",
                IncidentSchedule::parse);
        try {
          schedule.requireFeaturesBelow(featureCount);
        } catch (IllegalArgumentException e) {
          throw o.usage("--incidents: " + e.getMessage());
        }
        source =
            new ProduceSettings.Synthetic(
                model,
                SequenceConfig.defaults()
                    .withTokensPerRecord(tokens)
                    .withSequenceIdPrefix("seq-" + seedValue + "-"),
                schedule);
        long recordBytes =
            (long) tokens * width * ActivationCodec.bytesPerElement(type) + RECORD_OVERHEAD_BYTES;
        if (recordBytes > producer.maxRequestSizeBytes()) {
          throw o.usage(
              "a record of "
                  + tokens
                  + " tokens × d_in "
                  + width
                  + " in "
                  + type
                  + " takes up to "
                  + recordBytes
                  + " bytes, more than --max-request-size "
                  + producer.maxRequestSizeBytes()
                  + "; raise it (and the topic's max.message.bytes) or lower --tokens-per-record");
        }
      }
      return new ProduceSettings(producer, limits, template, source);
    } catch (ParameterException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw new ParameterException(cl, String.valueOf(e.getMessage()), e);
    }
  }

  private Map<String, String> givenOptions(CommandLine cl) {
    ParseResult parsed = cl.getParseResult();
    Map<String, String> given = new LinkedHashMap<>();
    for (OptionSpec option : requireSpec().options()) {
      if (option.type() == String.class && parsed.hasMatchedOption(option)) {
        String value = option.getValue();
        if (value != null) {
          given.put(option.longestName().substring(2), value);
        }
      }
    }
    return given;
  }

  private OptionSources sources(
      CommandLine cl, Map<String, String> given, @Nullable Path path, Properties properties) {
    Map<String, String> file = new LinkedHashMap<>();
    Set<String> known = fileKeys();
    for (String key : new TreeSet<>(properties.stringPropertyNames())) {
      if (key.startsWith(KAFKA_PREFIX)) {
        continue;
      }
      if (!known.contains(key)) {
        throw new ParameterException(
            cl,
            "unknown key '"
                + key
                + "' in "
                + path
                + "; expected option names without dashes ("
                + String.join(", ", known)
                + ") or kafka.<producer property>");
      }
      file.put(key, properties.getProperty(key));
    }
    return new OptionSources(
        cl, given, env, file, path == null ? "the config file" : path.toString());
  }

  private @Nullable Path configPath(CommandLine cl, Map<String, String> given) {
    String value = given.get("config");
    if (value == null) {
      value = env.get(OptionSources.envName("config"));
    }
    if (value == null) {
      return null;
    }
    if (value.isBlank()) {
      throw new ParameterException(cl, "--config must not be blank");
    }
    return Path.of(value.strip());
  }

  private static Properties loadProperties(CommandLine cl, Path path) {
    Properties properties = new Properties();
    try (Reader reader = Files.newBufferedReader(path)) {
      properties.load(reader);
    } catch (IOException | IllegalArgumentException e) {
      throw new ParameterException(
          cl, "--config: cannot read " + path + ": " + ProduceExceptionHandler.describe(e), e);
    }
    return properties;
  }

  private Set<String> fileKeys() {
    Set<String> keys = new TreeSet<>();
    for (OptionSpec option : requireSpec().options()) {
      String name = option.longestName().substring(2);
      if (option.type() == String.class && !name.equals("config")) {
        keys.add(name);
      }
    }
    return keys;
  }

  private CommandSpec requireSpec() {
    CommandSpec s = spec;
    if (s == null) {
      throw new IllegalStateException("picocli did not inject the command spec");
    }
    return s;
  }

  /** Opens the source and the producer, runs until a limit or Ctrl-C, and closes both. */
  static ProduceSummary execute(ProduceSettings settings, PrintWriter out) throws IOException {
    CountDownLatch finished = new CountDownLatch(1);
    BatchSource source = openSource(settings);
    SyntheticProducer producer;
    try {
      producer = SyntheticProducer.open(settings.producer());
    } catch (RuntimeException e) {
      try {
        source.close();
      } catch (RuntimeException closing) {
        e.addSuppressed(closing);
      }
      throw e;
    }
    Thread hook =
        new Thread(
            () -> {
              producer.stop();
              try {
                if (!finished.await(SHUTDOWN_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                  LOG.warn("Producer did not flush within {}; exiting anyway", SHUTDOWN_WAIT);
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "sae-stream-produce-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try (source;
        producer) {
      out.printf(
          Locale.ROOT,
          "producing %s to %s (%s, %s)%n",
          describe(settings.source()),
          settings.producer().topic(),
          settings.producer().bootstrapServers(),
          settings.template().dtype());
      out.flush();
      ProduceSummary summary = producer.run(source, settings.limits());
      out.println("produced " + summary.describe());
      out.flush();
      return summary;
    } finally {
      finished.countDown();
      removeShutdownHook(hook);
    }
  }

  private static void removeShutdownHook(Thread hook) {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // The JVM is shutting down and the hook itself is running; it returns once `finished` opens.
      LOG.debug("Shutdown in progress, hook stays registered", e);
    }
  }

  private static BatchSource openSource(ProduceSettings settings) throws IOException {
    if (settings.source() instanceof ProduceSettings.Replay replay) {
      NpyActivationFile file = NpyActivationFile.open(replay.file());
      Integer expected = replay.expectedDIn();
      if (expected != null && expected.intValue() != file.dIn()) {
        file.close();
        throw new IllegalArgumentException(
            "--d-in " + expected + " does not match d_in " + file.dIn() + " of " + replay.file());
      }
      return new ReplayBatchSource(
          file,
          settings.template(),
          replay.tokensPerRecord(),
          replay.sequenceLength(),
          replay.sequenceIdPrefix(),
          Clock.systemUTC());
    }
    ProduceSettings.Synthetic synthetic = (ProduceSettings.Synthetic) settings.source();
    GroundTruthModel model = new GroundTruthModel(synthetic.model());
    SequenceGenerator generator =
        new SequenceGenerator(
            model,
            synthetic.sequences(),
            synthetic.incidents(),
            Clock.systemUTC(),
            synthetic.model().seed());
    return new GeneratedBatchSource(generator, settings.template());
  }

  private static String describe(ProduceSettings.Source source) {
    if (source instanceof ProduceSettings.Replay replay) {
      return "activations replayed from " + replay.file();
    }
    ProduceSettings.Synthetic s = (ProduceSettings.Synthetic) source;
    return String.format(
        Locale.ROOT,
        "synthetic activations (d_in %d, %d features, L0 %.1f, seed %d%s)",
        s.model().dIn(),
        s.model().features(),
        s.model().meanActive(),
        s.model().seed(),
        s.incidents().isEmpty() ? "" : ", incidents " + s.incidents().spec());
  }

  private static double parseSnr(String text) {
    double value =
        text.equalsIgnoreCase("inf") || text.equalsIgnoreCase("infinity")
            ? Double.POSITIVE_INFINITY
            : Double.parseDouble(text);
    if (!(value > 0)) {
      throw new IllegalArgumentException("the signal-to-noise ratio must be > 0");
    }
    return value;
  }
}
