package io.saestream.launcher.demo;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.saestream.embedded.kafka.EmbeddedKafkaBroker;
import io.saestream.embedded.registry.EmbeddedSchemaRegistry;
import io.saestream.sae.checkpoint.FloatTensor;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;
import io.saestream.sae.checkpoint.Tensor;
import io.saestream.schema.checkpoint.CheckpointTopic;
import io.saestream.schema.registry.RestSchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryClientConfig;
import io.saestream.schema.v1.Dtype;
import io.saestream.streams.StreamsApp;
import io.saestream.streams.config.CheckpointSettings;
import io.saestream.streams.config.Device;
import io.saestream.streams.config.InferenceSettings;
import io.saestream.streams.config.KafkaSettings;
import io.saestream.streams.config.MonitoringSettings;
import io.saestream.streams.config.SaeDeployment;
import io.saestream.streams.config.SchemaRegistrySettings;
import io.saestream.streams.config.StreamsAppConfig;
import io.saestream.streams.config.StreamsSettings;
import io.saestream.streams.config.TopicNames;
import io.saestream.synthetic.GroundTruthConfig;
import io.saestream.synthetic.GroundTruthModel;
import io.saestream.synthetic.incident.CompactDuration;
import io.saestream.synthetic.incident.DriftEpisode;
import io.saestream.synthetic.incident.IncidentSchedule;
import io.saestream.synthetic.incident.LatentBurst;
import io.saestream.synthetic.produce.ActivationBatchTemplate;
import io.saestream.synthetic.produce.GeneratedBatchSource;
import io.saestream.synthetic.produce.ProduceLimits;
import io.saestream.synthetic.produce.ProducerSettings;
import io.saestream.synthetic.produce.SyntheticProducer;
import io.saestream.synthetic.sequence.SequenceConfig;
import io.saestream.synthetic.sequence.SequenceGenerator;
import io.saestream.trainer.app.TrainerApp;
import io.saestream.trainer.config.TrainerConfig;
import io.saestream.trainer.config.TrainerConfigLoader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sae-stream demo}: the whole product in one JVM. An in-JVM KRaft broker and schema
 * registry, a synthetic "LLM" producing activations with a latent burst and a drift episode, the
 * streams app serving an untrained TopK SAE with hot swap and monitoring on, and the trainer
 * publishing new versions every {@code --publish-every}; progress on the console, a summary and an
 * HTML report at the end.
 *
 * <p>Lifetime: {@link #call()} owns every component and closes them in reverse order of start when
 * {@code --duration} has passed or on Ctrl-C (a shutdown hook that waits for the clean close).
 * Picocli creates one instance per run; not thread-safe.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description =
        "Runs everything in one JVM: embedded broker and registry, synthetic producer with"
            + " incidents, streams app with hot swap and alerts, online trainer; prints progress"
            + " and writes an HTML report.")
public final class DemoCommand implements Callable<Integer> {

  private static final Logger LOG = LoggerFactory.getLogger(DemoCommand.class);

  static final String MODEL = "demo-llm";
  static final String HOOK = "blocks.6.hook_resid_pre";
  static final String SAE_ID = "demo-topk";
  private static final String ALERTS_RULE_BURST = "burst-feature";
  private static final String ALERTS_RULE_DRIFT = "drift-fvu";
  private static final int MAX_MESSAGE_BYTES = 8 << 20;

  @Option(
      names = "--duration",
      description = "Stop after this long (e.g. 120s, 5m); default: run until Ctrl-C.",
      converter = DurationConverter.class)
  @Nullable Duration duration;

  @Option(
      names = "--report-dir",
      description = "Where the report goes; default ./reports/demo-<timestamp>/.")
  @Nullable Path reportDir;

  @Option(names = "--d-in", defaultValue = "128", description = "Activation width.")
  int dIn;

  @Option(names = "--d-sae", defaultValue = "512", description = "SAE latents.")
  int dSae;

  @Option(names = "--k", defaultValue = "16", description = "TopK k.")
  int k;

  @Option(
      names = "--tokens-per-second",
      defaultValue = "4000",
      description = "Producer pace, tokens per second.")
  double tokensPerSecond;

  @Option(
      names = "--publish-every",
      defaultValue = "15s",
      converter = DurationConverter.class,
      description = "Trainer publication cadence.")
  Duration publishEvery;

  @Option(
      names = "--progress-every",
      defaultValue = "5s",
      converter = DurationConverter.class,
      description = "Console progress cadence.")
  Duration progressEvery;

  @Option(
      names = "--burst-at",
      defaultValue = "20s",
      converter = DurationConverter.class,
      description = "When the latent burst starts.")
  Duration burstAt;

  @Option(
      names = "--drift-at",
      defaultValue = "40s",
      converter = DurationConverter.class,
      description = "When the drift episode starts.")
  Duration driftAt;

  @Option(
      names = "--drift-for",
      defaultValue = "15s",
      converter = DurationConverter.class,
      description = "How long the drift episode lasts.")
  Duration driftFor;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Parses {@code 120s}, {@code 5m} or ISO-8601 durations. */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      Duration d = CompactDuration.parse(value);
      if (d.isNegative() || d.isZero()) {
        throw new CommandLine.TypeConversionException("must be > 0, was " + value);
      }
      return d;
    }
  }

  @Override
  public Integer call() throws Exception {
    checkOptions();
    PrintWriter out = spec.commandLine().getOut();
    Path report =
        reportDir != null
            ? reportDir
            : Path.of(
                "reports",
                "demo-"
                    + LocalDateTime.now(Clock.system(ZoneId.systemDefault()))
                        .format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT)));
    CountDownLatch stop = new CountDownLatch(1);
    CountDownLatch finished = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              stop.countDown();
              try {
                // Keeps the JVM alive until the components are closed (bounded: 10 s).
                if (!finished.await(10, TimeUnit.SECONDS)) {
                  LOG.warn("The demo did not stop within 10 s");
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "sae-stream-demo-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    Path work = Files.createTempDirectory("sae-stream-demo-");
    try {
      DemoReport result = run(out, work, stop);
      out.print(result.summary());
      Path html = result.write(report);
      out.printf(Locale.ROOT, "report: %s%n", html.toAbsolutePath());
      out.flush();
      return 0;
    } finally {
      deleteRecursively(work);
      finished.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        LOG.debug("Shutdown in progress, hook stays registered", e);
      }
    }
  }

  private void checkOptions() {
    for (Map.Entry<String, Double> e :
        Map.of(
                "--d-in", (double) dIn,
                "--d-sae", (double) dSae,
                "--k", (double) k,
                "--tokens-per-second", tokensPerSecond)
            .entrySet()) {
      if (!(e.getValue() > 0)) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), e.getKey() + " must be > 0, was " + e.getValue());
      }
    }
    if (k > dSae) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--k must be <= --d-sae, was " + k + " > " + dSae);
    }
  }

  private DemoReport run(PrintWriter out, Path work, CountDownLatch stop) throws Exception {
    int features = Math.max(16, dSae / 2);
    int burstFeature = 3;
    IncidentSchedule incidents =
        IncidentSchedule.of(
            List.of(
                new LatentBurst(burstAt, burstFeature, 32, LatentBurst.DEFAULT_MAGNITUDE),
                new DriftEpisode(driftAt, driftFor, 3.0)));
    Path saeDir = work.resolve("initial-sae");
    untrainedTopK(saeDir);
    Path rules = work.resolve("rules.yaml");
    Files.writeString(rules, rulesYaml(burstFeature), StandardCharsets.UTF_8);
    TopicNames topics = TopicNames.defaults();
    MonitoringSettings monitoring =
        MonitoringSettings.defaults()
            .withEnabled(true)
            .withRulesFile(rules)
            .withStatsWindow(Duration.ofSeconds(10));

    out.println("sae-stream demo: starting the broker and schema registry...");
    out.flush();
    List<AutoCloseable> open = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    AtomicReference<@Nullable Throwable> failure = new AtomicReference<>();
    try {
      EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.withDefaults().start();
      open.add(broker);
      EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.start();
      open.add(registry);
      createTopics(broker, topics, monitoring);
      SchemaRegistryClient registryClient =
          new RestSchemaRegistryClient(SchemaRegistryClientConfig.of(List.of(registry.url())));

      StreamsAppConfig config =
          new StreamsAppConfig(
              new KafkaSettings(broker.bootstrapServers(), "sae-stream-demo", Map.of()),
              new SchemaRegistrySettings(List.of(registry.url()), null, true),
              topics,
              new StreamsSettings(
                  1,
                  StreamsSettings.DEFAULT_MAX_TOKENS_PER_RECORD,
                  work.resolve("state"),
                  Duration.ofMillis(200),
                  Duration.ofSeconds(5)),
              new InferenceSettings(Device.CPU, 0, 1),
              List.of(SaeDeployment.of(SAE_ID, saeDir).withHook(MODEL, HOOK)),
              CheckpointSettings.following(CheckpointSettings.defaults().topic()),
              monitoring);
      StreamsApp app = StreamsApp.start(config, registryClient, Clock.systemUTC());
      open.add(app);

      TrainerConfig trainerConfig =
          TrainerConfigLoader.parse(trainerYaml(broker, registry), work, Map.of());
      TrainerApp trainer = TrainerApp.create(trainerConfig);
      open.add(trainer);
      threads.add(startThread("sae-stream-demo-trainer", trainer::run, failure));

      long startMillis = System.currentTimeMillis();
      DemoProgress progress =
          DemoProgress.start(
              broker.bootstrapServers(),
              registryClient,
              topics.reconstruction(),
              monitoring.alertsTopic(),
              startMillis);
      open.add(progress);

      GroundTruthModel model = new GroundTruthModel(GroundTruthConfig.defaults(dIn, features, 7L));
      SequenceGenerator generator =
          new SequenceGenerator(
              model,
              SequenceConfig.defaults().withTokensPerRecord(64).withSequenceIdPrefix("demo-"),
              incidents,
              Clock.systemUTC(),
              7L);
      SyntheticProducer producer =
          SyntheticProducer.open(
              ProducerSettings.defaults(broker.bootstrapServers(), registry.url().toString())
                  .withTopic(topics.activations()));
      open.add(producer::stop);
      open.add(producer);
      GeneratedBatchSource source =
          new GeneratedBatchSource(
              generator, new ActivationBatchTemplate(MODEL, HOOK, Dtype.F32, Map.of()));
      threads.add(
          startThread(
              "sae-stream-demo-producer",
              () ->
                  producer.run(
                      source, ProduceLimits.unlimited().withTokensPerSecond(tokensPerSecond)),
              failure));
      out.printf(
          Locale.ROOT,
          "sae-stream demo: broker %s, registry %s; producing %.0f tokens/s (d_in %d), serving"
              + " %s (d_sae %d, k %d); burst of feature %d at %s, drift at %s for %s%n",
          broker.bootstrapServers(),
          registry.url(),
          tokensPerSecond,
          dIn,
          SAE_ID,
          dSae,
          k,
          burstFeature,
          CompactDuration.format(burstAt),
          CompactDuration.format(driftAt),
          CompactDuration.format(driftFor));
      out.flush();

      long lastTokens = 0;
      long lastNanos = System.nanoTime();
      long deadline = duration == null ? Long.MAX_VALUE : lastNanos + duration.toNanos();
      while (true) {
        long wait = Math.min(progressEvery.toNanos(), deadline - System.nanoTime());
        if (wait <= 0 || stop.await(wait, TimeUnit.NANOSECONDS)) {
          break;
        }
        Throwable f = failure.get();
        RuntimeException pf = progress.failure();
        if (f != null || pf != null || app.failed()) {
          throw new IllegalStateException(
              "a demo component failed: " + (f != null ? f : pf != null ? pf : "streams app"),
              f != null ? f : pf);
        }
        long now = System.nanoTime();
        double seconds = (System.currentTimeMillis() - startMillis) / 1e3;
        DemoProgress.Point p = progress.closeInterval(seconds);
        long tokens = progress.totalTokens();
        double rate = (tokens - lastTokens) / ((now - lastNanos) / 1e9);
        lastTokens = tokens;
        lastNanos = now;
        out.printf(
            Locale.ROOT,
            "[%5.0fs] %7.0f tokens/s | FVU %s | rel.err %s | L0 %s | serving v%d | swaps %d |"
                + " published %d | alerts %d%n",
            seconds,
            rate,
            p == null ? "  -   " : String.format(Locale.ROOT, "%.4f", p.fvu()),
            p == null ? "  -   " : String.format(Locale.ROOT, "%.4f", p.relativeError()),
            p == null ? " - " : String.format(Locale.ROOT, "%.1f", p.l0()),
            progress.lastVersion(),
            swaps(app),
            trainer.published().size(),
            progress.alerts().size());
        out.flush();
      }
      double seconds = (System.currentTimeMillis() - startMillis) / 1e3;
      out.println("sae-stream demo: stopping...");
      out.flush();
      producer.stop();
      trainer.shutdown();
      for (Thread t : threads) {
        t.join(Duration.ofSeconds(5).toMillis());
      }
      long swaps = swaps(app);
      progress.closeInterval(seconds);
      double to = seconds;
      return new DemoReport(
          seconds,
          progress.totalTokens(),
          progress.points(),
          progress.perVersion(),
          progress.alerts(),
          swaps,
          trainer.published().size(),
          List.of(
              new DemoReport.Incident(
                  "burst of feature " + burstFeature,
                  secondsOf(burstAt),
                  Math.min(to, secondsOf(burstAt) + 15)),
              new DemoReport.Incident(
                  "drift",
                  secondsOf(driftAt),
                  Math.min(to, secondsOf(driftAt.plus(driftFor)) + 15))));
    } finally {
      closeInReverse(open);
      Throwable f = failure.get();
      if (f != null) {
        LOG.warn("A demo component failed", f);
      }
    }
  }

  private static double secondsOf(Duration d) {
    return d.toMillis() / 1e3;
  }

  private static long swaps(StreamsApp app) {
    return app.checkpointFollower().map(f -> f.metrics().swaps(SAE_ID)).orElse(0L);
  }

  private static Thread startThread(
      String name, Runnable body, AtomicReference<@Nullable Throwable> failure) {
    Thread t =
        new Thread(
            () -> {
              try {
                body.run();
              } catch (RuntimeException e) {
                failure.compareAndSet(null, e);
              }
            },
            name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static void closeInReverse(List<AutoCloseable> open) throws Exception {
    Exception first = null;
    for (int i = open.size() - 1; i >= 0; i--) {
      try {
        open.get(i).close();
      } catch (Exception e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  private static void createTopics(
      EmbeddedKafkaBroker broker, TopicNames topics, MonitoringSettings monitoring) {
    Map<String, String> large =
        Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MAX_MESSAGE_BYTES));
    broker.createTopics(
        List.of(
            new NewTopic(topics.activations(), 1, (short) 1).configs(large),
            new NewTopic(topics.features(), 1, (short) 1),
            new NewTopic(topics.reconstruction(), 1, (short) 1),
            new NewTopic(topics.deadLetter(), 1, (short) 1).configs(large),
            CheckpointTopic.newTopic(CheckpointSettings.defaults().topic(), 1, (short) 1),
            new NewTopic(monitoring.alertsTopic(), 1, (short) 1),
            new NewTopic(monitoring.rulesTopic(), 1, (short) 1)
                .configs(
                    Map.of(
                        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT))));
  }

  private String rulesYaml(int burstFeature) {
    // The initial SAE is untrained and each published version learns its own basis, so latent
    // `burstFeature` is not the ground-truth feature; the rule shows the mechanism, the drift rule
    // is the one that tracks its incident.
    return String.join(
        "\n",
        "rules:",
        "  - id: " + ALERTS_RULE_BURST,
        "    type: latent-threshold",
        "    sae-id: " + SAE_ID,
        "    latent: " + burstFeature,
        "    min-activation: 5.0",
        "    min-tokens: 8",
        "    window: 10s",
        "  - id: " + ALERTS_RULE_DRIFT,
        "    type: drift",
        "    sae-id: " + SAE_ID,
        "    metric: fvu",
        "    threshold: 0.9",
        "    min-tokens: 256",
        "    window: 10s",
        "");
  }

  private String trainerYaml(EmbeddedKafkaBroker broker, EmbeddedSchemaRegistry registry) {
    return String.join(
        "\n",
        "kafka:",
        "  bootstrap-servers: " + broker.bootstrapServers(),
        "  group-id: sae-stream-demo-trainer",
        "schema-registry:",
        "  urls: " + registry.url(),
        "runtime:",
        "  poll-timeout: 200ms",
        "trainers:",
        "  - sae-id: " + SAE_ID,
        "    model-id: " + MODEL,
        "    hook-name: " + HOOK,
        "    d-in: " + dIn,
        "    d-sae: " + dSae,
        "    k: " + k,
        "    batch-size: 256",
        "    buffer-tokens: 2048",
        "    lr: 1e-3",
        "    warmup-steps: 20",
        "    eval-every: 10",
        "    publish-every-tokens: 1000000000",
        "    publish-every: " + publishEvery.toMillis() + "ms",
        "");
  }

  /** A TopK SAE with random weights, written as a sae-lens directory. */
  private void untrainedTopK(Path dir) {
    ObjectNode cfg = JsonNodeFactory.instance.objectNode();
    cfg.put("architecture", "topk");
    cfg.put("d_in", dIn);
    cfg.put("d_sae", dSae);
    cfg.put("apply_b_dec_to_input", true);
    cfg.put("normalize_activations", "none");
    cfg.put("k", k);
    cfg.put("rescale_acts_by_decoder_norm", true);
    SplittableRandom random = new SplittableRandom(11);
    float[] dec = new float[dSae * dIn];
    for (int i = 0; i < dSae; i++) {
      double norm = 0;
      for (int j = 0; j < dIn; j++) {
        float v = (float) gaussian(random);
        dec[i * dIn + j] = v;
        norm += (double) v * v;
      }
      float scale = (float) (1 / Math.sqrt(norm));
      for (int j = 0; j < dIn; j++) {
        dec[i * dIn + j] *= scale;
      }
    }
    float[] enc = new float[dIn * dSae];
    for (int i = 0; i < dSae; i++) {
      for (int j = 0; j < dIn; j++) {
        enc[j * dSae + i] = dec[i * dIn + j];
      }
    }
    Map<String, Tensor> t = new LinkedHashMap<>();
    t.put("W_enc", FloatTensor.of(enc, dIn, dSae));
    t.put("b_enc", FloatTensor.of(new float[dSae], dSae));
    t.put("W_dec", FloatTensor.of(dec, dSae, dIn));
    t.put("b_dec", FloatTensor.of(new float[dIn], dIn));
    SaeCheckpoint.of(SaeConfig.fromJson(cfg), t).write(dir);
  }

  private static double gaussian(SplittableRandom random) {
    double u = 1 - random.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
