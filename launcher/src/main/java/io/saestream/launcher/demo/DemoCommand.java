package io.saestream.launcher.demo;

import io.saestream.embedded.kafka.EmbeddedKafkaBroker;
import io.saestream.embedded.registry.EmbeddedSchemaRegistry;
import io.saestream.sae.checkpoint.FloatTensor;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;
import io.saestream.sae.checkpoint.Tensor;
import io.saestream.sae.cli.SignalStop;
import io.saestream.schema.checkpoint.CheckpointTopic;
import io.saestream.schema.registry.RestSchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryClientConfig;
import io.saestream.schema.v1.Dtype;
import io.saestream.streams.StreamsApp;
import io.saestream.streams.config.CheckpointSettings;
import io.saestream.streams.config.Device;
import io.saestream.streams.config.HttpSettings;
import io.saestream.streams.config.InferenceSettings;
import io.saestream.streams.config.KafkaSettings;
import io.saestream.streams.config.MonitoringSettings;
import io.saestream.streams.config.SaeDeployment;
import io.saestream.streams.config.SchemaRegistrySettings;
import io.saestream.streams.config.StreamsAppConfig;
import io.saestream.streams.config.StreamsSettings;
import io.saestream.streams.config.TopicNames;
import io.saestream.streams.monitoring.rules.AlertRule;
import io.saestream.streams.monitoring.rules.RuleParser;
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
import io.saestream.trainer.config.TrainerConfigLoader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
 * <p>The alert rules follow the served SAE: for every version (the initial one, then each the
 * trainer publishes) the demo finds the latent that carries the burst feature and the FVU of normal
 * and drifted traffic ({@link RuleCalibration}) and re-publishes the rules on the rules topic.
 *
 * <p>Lifetime: {@link #call()} owns every component ({@link DemoStack}) and stops them in order
 * within {@value #STOP_BUDGET_SECONDS} s when {@code --duration} has passed or on Ctrl-C / SIGTERM,
 * which {@link SignalStop} turns into a stop request rather than a JVM shutdown (ONNX Runtime's own
 * shutdown hook would race the ordered close). Either way the summary and the report are written
 * and the exit status is 0; a shutdown hook remains as a fallback for other JVM exits. Picocli
 * creates one instance per run; not thread-safe.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Runs everything in one JVM: embedded broker and registry, synthetic producer with"
          + " incidents, streams app with hot swap and alerts, online trainer; prints progress"
          + " and writes an HTML report.",
      "Ctrl-C (or SIGTERM) stops it cleanly within 10 s, prints the summary, writes the report"
          + " and exits with 0, as --duration does; a second Ctrl-C exits at once."
    })
public final class DemoCommand implements Callable<Integer> {

  private static final Logger LOG = LoggerFactory.getLogger(DemoCommand.class);

  static final String MODEL = "demo-llm";
  static final String HOOK = "blocks.6.hook_resid_pre";
  static final String SAE_ID = "demo-topk";
  static final long SEED = 7L;
  private static final int MAX_MESSAGE_BYTES = 8 << 20;
  private static final int TOKENS_PER_RECORD = 64;
  private static final int BURST_TOKENS = 32;

  /**
   * Tokens of one sequence the burst rule needs. The rule's activation is calibrated below the
   * burst's 24th strongest token ({@link RuleCalibration}), so even a burst split 16/16 by a window
   * boundary leaves 12 on one side.
   */
  private static final int BURST_MIN_TOKENS = 12;

  private static final double DRIFT_SCALE = DriftEpisode.DEFAULT_SCALE;
  private static final Duration BURST_WINDOW = Duration.ofSeconds(10);
  private static final Duration DRIFT_WINDOW = Duration.ofSeconds(5);
  private static final Duration STATS_WINDOW = Duration.ofSeconds(10);

  /**
   * Grace of the per-SAE windows: the demo has one input partition, so summaries arrive in event
   * time order and a window can be judged (the drift alert raised) a second after it ends.
   */
  private static final Duration WINDOW_GRACE = Duration.ofSeconds(1);

  /** Slack for processing and commit delays when attributing alerts to incidents. */
  private static final Duration ALERT_SLACK = Duration.ofSeconds(3);

  private static final Duration TICK = Duration.ofMillis(200);
  private static final Duration RULES_TIMEOUT = Duration.ofSeconds(60);
  static final int STOP_BUDGET_SECONDS = 8;
  private static final Duration HOOK_WAIT = Duration.ofSeconds(10);

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
      names = "--burst-feature",
      defaultValue = "3",
      description = "The ground-truth feature that bursts (the demo finds its latent).")
  int burstFeature;

  @Option(
      names = "--burst-magnitude",
      defaultValue = "20",
      description =
          "The burst feature's magnitude; natural magnitudes are 1 + Exp(1), so the default stands"
              + " out even to an SAE in its first minute of training.")
  double burstMagnitude;

  @Option(
      names = "--burst-at",
      defaultValue = "20s",
      converter = DurationConverter.class,
      description = "When the latent burst starts.")
  Duration burstAt;

  @Option(
      names = "--drift-at",
      defaultValue = "33s",
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

  /** Why and when the demo stops: a latch the shutdown hook and the deadline share. */
  private static final class StopSignal {
    private final CountDownLatch latch = new CountDownLatch(1);
    private volatile String reason = "";

    void request(String why) {
      if (latch.getCount() > 0) {
        reason = why;
        latch.countDown();
      }
    }

    boolean requested() {
      return latch.getCount() == 0;
    }

    boolean await(long nanos) throws InterruptedException {
      return latch.await(nanos, TimeUnit.NANOSECONDS);
    }

    String reason() {
      return reason;
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
    StopSignal stop = new StopSignal();
    CountDownLatch finished = new CountDownLatch(1);
    // Only a fallback (a signal the JVM keeps, System.exit elsewhere): see SignalStop for why the
    // signals themselves must not start the JVM's shutdown.
    Thread hook =
        new Thread(
            () -> {
              stop.request("stop requested (JVM shutdown)");
              try {
                if (!finished.await(HOOK_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                  LOG.error("The demo did not stop within {}; exiting anyway", HOOK_WAIT);
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "sae-stream-demo-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    SignalStop signals =
        SignalStop.install(signal -> stop.request("stop requested (" + signal + ")"));
    Path work = Files.createTempDirectory("sae-stream-demo-");
    try {
      DemoReport result = run(out, work, stop);
      out.print(result.summary());
      Path html = result.write(report);
      out.printf(Locale.ROOT, "report: %s%n", html.toAbsolutePath());
      out.flush();
      return 0;
    } finally {
      try {
        signals.close();
        deleteRecursively(work);
      } finally {
        finished.countDown();
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
          LOG.debug("Shutdown in progress, the hook stays registered", e);
        }
      }
    }
  }

  private void checkOptions() {
    for (Map.Entry<String, Double> e :
        Map.of(
                "--d-in", (double) dIn,
                "--d-sae", (double) dSae,
                "--k", (double) k,
                "--tokens-per-second", tokensPerSecond,
                "--burst-magnitude", burstMagnitude)
            .entrySet()) {
      if (!(e.getValue() > 0) || Double.isInfinite(e.getValue())) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), e.getKey() + " must be > 0, was " + e.getValue());
      }
    }
    if (k > dSae) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--k must be <= --d-sae, was " + k + " > " + dSae);
    }
    if (burstFeature < 0 || burstFeature >= features()) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "--burst-feature must be in [0, "
              + features()
              + ") (the generator has max(16, d_sae / 2) features), was "
              + burstFeature);
    }
  }

  private int features() {
    return Math.max(16, dSae / 2);
  }

  /**
   * Tokens a drift window needs to be judged: a quarter of what the producer sends in one, so that
   * the partial windows at the start and the end of production are left alone.
   */
  private int driftMinTokens() {
    double quarter = tokensPerSecond * secondsOf(DRIFT_WINDOW) / 4;
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, quarter));
  }

  /** What the main loop needs from the started components. */
  private record Live(
      StreamsApp app,
      TrainerApp trainer,
      DemoProgress progress,
      RuleTracker tracker,
      long startNanos) {}

  private DemoReport run(PrintWriter out, Path work, StopSignal stop) throws Exception {
    LatentBurst burst = new LatentBurst(burstAt, burstFeature, BURST_TOKENS, burstMagnitude);
    DriftEpisode drift = new DriftEpisode(driftAt, driftFor, DRIFT_SCALE);
    DemoStack stack = new DemoStack();
    Live live = null;
    double seconds = 0;
    long swaps = 0;
    DemoReport.Batches batches;
    try {
      live = start(out, work, stack, burst, drift, stop);
      if (live != null) {
        seconds = loop(out, stack, live, stop);
        swaps = swaps(live.app());
      }
    } finally {
      out.printf(
          Locale.ROOT,
          "sae-stream demo: stopping (%s)...%n",
          stop.requested() ? stop.reason() : "failure");
      out.flush();
      batches = stack.stop(Duration.ofSeconds(STOP_BUDGET_SECONDS));
    }
    if (live == null) {
      return new DemoReport(
          0,
          stop.reason(),
          0,
          batches,
          List.of(),
          List.of(),
          Map.of(),
          List.of(),
          0,
          0,
          List.of(),
          List.of());
    }
    DemoProgress progress = live.progress();
    double burstFrom = secondsOf(burstAt);
    double driftFrom = secondsOf(driftAt);
    double driftTo = secondsOf(driftAt.plus(driftFor));
    return new DemoReport(
        seconds,
        stop.reason(),
        progress.totalTokens(),
        batches,
        progress.timeline(),
        progress.perVersion(),
        progress.versionsFirstSeen(),
        progress.alerts(),
        swaps,
        live.trainer().published().size(),
        List.of(
            new DemoReport.Incident(
                String.format(
                    Locale.ROOT,
                    "burst of feature %d at %s",
                    burstFeature,
                    CompactDuration.format(burstAt)),
                DemoRules.BURST_RULE,
                burstFrom,
                burstFrom + 1,
                burstFrom + secondsOf(BURST_WINDOW.multipliedBy(2))),
            new DemoReport.Incident(
                String.format(
                    Locale.ROOT,
                    "drift at %s for %s",
                    CompactDuration.format(driftAt),
                    CompactDuration.format(driftFor)),
                DemoRules.DRIFT_RULE,
                driftFrom,
                driftTo,
                driftTo
                    + secondsOf(
                        DRIFT_WINDOW.multipliedBy(2).plus(WINDOW_GRACE).plus(ALERT_SLACK)))),
        live.tracker().calibrations());
  }

  /**
   * Starts everything (each component adopted by {@code stack} at once, so that a failure or a stop
   * stops what did start); null when a stop was requested before production began.
   */
  private @Nullable Live start(
      PrintWriter out,
      Path work,
      DemoStack stack,
      LatentBurst burst,
      DriftEpisode drift,
      StopSignal stop)
      throws InterruptedException {
    out.println("sae-stream demo: starting the broker and schema registry...");
    out.flush();
    EmbeddedKafkaBroker broker = stack.adopt(EmbeddedKafkaBroker.withDefaults().start());
    EmbeddedSchemaRegistry registry = stack.adopt(EmbeddedSchemaRegistry.start());
    TopicNames topics = TopicNames.defaults();
    MonitoringSettings monitoring =
        MonitoringSettings.defaults()
            .withEnabled(true)
            .withStatsWindow(STATS_WINDOW)
            .withWindowGrace(WINDOW_GRACE);
    createTopics(broker, topics, monitoring);
    if (stop.requested()) {
      return null;
    }
    SchemaRegistryClient registryClient =
        new RestSchemaRegistryClient(SchemaRegistryClientConfig.of(List.of(registry.url())));
    Path saeDir = work.resolve("initial-sae");
    untrainedTopK(saeDir);
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
                Duration.ofSeconds(3)),
            new InferenceSettings(Device.CPU, 0, 1),
            List.of(SaeDeployment.of(SAE_ID, saeDir).withHook(MODEL, HOOK)),
            CheckpointSettings.following(CheckpointSettings.defaults().topic()),
            monitoring,
            HttpSettings.ephemeral());
    StreamsApp app = stack.adopt(StreamsApp.start(config, registryClient, Clock.systemUTC()));
    app.httpPort()
        .ifPresent(
            port ->
                out.printf(
                    Locale.ROOT,
                    "sae-stream demo: dashboard at http://%s:%d/%n",
                    config.http().bind(),
                    port));

    GroundTruthModel model =
        new GroundTruthModel(GroundTruthConfig.defaults(dIn, features(), SEED));
    SequenceConfig sequences =
        SequenceConfig.defaults()
            .withTokensPerRecord(TOKENS_PER_RECORD)
            .withSequenceIdPrefix("demo-");
    CalibrationTraffic traffic =
        CalibrationTraffic.generate(model, sequences, burst, drift, SEED, 256, 8, 24);
    DemoRules rules =
        stack.adopt(
            new DemoRules(
                broker.bootstrapServers(),
                monitoring.rulesTopic(),
                new DemoRules.Shape(
                    SAE_ID, BURST_WINDOW, BURST_MIN_TOKENS, DRIFT_WINDOW, driftMinTokens())));
    Path published = work.resolve("published");
    RuleTracker tracker =
        new RuleTracker(traffic, rules, published.resolve(SAE_ID), BURST_MIN_TOKENS);
    RuleCalibration initial = tracker.calibrate(0, saeDir);
    printRules(out, initial, null);
    if (!awaitRules(app, tracker.current(), stop)) {
      return null;
    }

    Clock clock = Clock.systemUTC();
    long startNanos = System.nanoTime();
    long startMillis = clock.millis();
    SequenceGenerator generator =
        new SequenceGenerator(
            model, sequences, IncidentSchedule.of(List.of(burst, drift)), clock, SEED);
    DemoProgress progress =
        stack.adopt(
            DemoProgress.start(
                broker.bootstrapServers(),
                registryClient,
                topics.reconstruction(),
                monitoring.alertsTopic(),
                topics.deadLetter(),
                startMillis,
                List.of(
                    new DemoProgress.Span(
                        secondsOf(drift.at()), secondsOf(drift.at().plus(drift.duration()))))));
    SyntheticProducer producer =
        SyntheticProducer.open(
            ProducerSettings.defaults(broker.bootstrapServers(), registry.url().toString())
                .withTopic(topics.activations()));
    stack.runProducer(
        producer,
        new GeneratedBatchSource(
            generator, new ActivationBatchTemplate(MODEL, HOOK, Dtype.F32, Map.of())),
        ProduceLimits.unlimited().withTokensPerSecond(tokensPerSecond));
    TrainerApp trainer =
        TrainerApp.create(
            TrainerConfigLoader.parse(trainerYaml(broker, registry, published), work, Map.of()));
    stack.runTrainer(trainer);
    out.printf(
        Locale.ROOT,
        "sae-stream demo: broker %s, registry %s; producing %.0f tokens/s (d_in %d), serving"
            + " %s (d_sae %d, k %d), training a new version every %s; burst of feature %d at %s,"
            + " drift at %s for %s%n",
        broker.bootstrapServers(),
        registry.url(),
        tokensPerSecond,
        dIn,
        SAE_ID,
        dSae,
        k,
        CompactDuration.format(publishEvery),
        burstFeature,
        CompactDuration.format(burstAt),
        CompactDuration.format(driftAt),
        CompactDuration.format(driftFor));
    out.flush();
    return new Live(app, trainer, progress, tracker, startNanos);
  }

  /** Runs until the deadline or a stop; returns the seconds since production started. */
  private double loop(PrintWriter out, DemoStack stack, Live live, StopSignal stop)
      throws InterruptedException {
    long startNanos = live.startNanos();
    Duration limit = duration;
    long deadline = limit == null ? 0 : startNanos + limit.toNanos();
    long nextProgress = startNanos + progressEvery.toNanos();
    long lastTokens = 0;
    long lastNanos = startNanos;
    while (true) {
      long now = System.nanoTime();
      if (limit != null && now - deadline >= 0) {
        stop.request("duration reached");
        break;
      }
      long wait = Math.min(TICK.toNanos(), nextProgress - now);
      if (limit != null) {
        wait = Math.min(wait, deadline - now);
      }
      if (stop.await(Math.max(1, wait))) {
        break;
      }
      checkHealth(stack, live);
      RuleCalibration calibration = live.tracker().pollPublished();
      if (calibration != null) {
        printRules(out, calibration, live.tracker().previousOf(calibration));
      }
      now = System.nanoTime();
      if (now - nextProgress >= 0) {
        nextProgress += progressEvery.toNanos();
        double seconds = (now - startNanos) / 1e9;
        DemoProgress.Point p = live.progress().closeInterval(seconds);
        long tokens = live.progress().totalTokens();
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
            live.progress().lastVersion(),
            swaps(live.app()),
            live.trainer().published().size(),
            live.progress().alerts().size());
        out.flush();
      }
    }
    if (stop.reason().startsWith("stop requested")) {
      out.println("sae-stream demo: stop requested, shutting down (at most 10 s)...");
      out.flush();
    }
    return (System.nanoTime() - startNanos) / 1e9;
  }

  private static void checkHealth(DemoStack stack, Live live) {
    Throwable f = stack.failure();
    RuntimeException pf = live.progress().failure();
    if (f != null || pf != null || live.app().failed()) {
      Throwable cause = f != null ? f : pf;
      throw new IllegalStateException(
          "a demo component failed: " + (cause != null ? cause : "the streams app stopped"), cause);
    }
  }

  private static void printRules(
      PrintWriter out, RuleCalibration c, @Nullable RuleCalibration previous) {
    out.println("sae-stream demo: alert rules for " + c.describe(previous));
    out.flush();
  }

  /**
   * Waits until the app enforces {@code rules} (id to JSON) as published; false when a stop was
   * requested first.
   *
   * @throws IllegalStateException when they are not in force within a minute
   */
  private static boolean awaitRules(StreamsApp app, Map<String, String> rules, StopSignal stop)
      throws InterruptedException {
    Map<String, AlertRule> expected = new HashMap<>();
    rules.forEach((id, json) -> expected.put(id, RuleParser.parseRecord(id, json)));
    long deadline = System.nanoTime() + RULES_TIMEOUT.toNanos();
    while (!expected.entrySet().stream()
        .allMatch(e -> e.getValue().equals(app.rules().current().get(e.getKey())))) {
      if (app.failed()) {
        throw new IllegalStateException("the streams app stopped while loading the alert rules");
      }
      if (System.nanoTime() - deadline >= 0) {
        throw new IllegalStateException(
            "the streams app did not load the demo's alert rules "
                + expected.keySet()
                + " within "
                + RULES_TIMEOUT);
      }
      if (stop.await(TimeUnit.MILLISECONDS.toNanos(50))) {
        return false;
      }
    }
    return true;
  }

  private static double secondsOf(Duration d) {
    return d.toMillis() / 1e3;
  }

  private static long swaps(StreamsApp app) {
    return app.checkpointFollower().map(f -> f.metrics().swaps(SAE_ID)).orElse(0L);
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

  private String trainerYaml(
      EmbeddedKafkaBroker broker, EmbeddedSchemaRegistry registry, Path published) {
    return String.join(
        "\n",
        "kafka:",
        "  bootstrap-servers: " + broker.bootstrapServers(),
        "  group-id: sae-stream-demo-trainer",
        "schema-registry:",
        "  urls: " + registry.url(),
        "runtime:",
        "  poll-timeout: 200ms",
        // One ONNX Runtime thread, as the streams app: the demo must leave a laptop usable.
        "  intra-op-threads: 1",
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
        "    output-dir: " + quoteYaml(published.toString()),
        "");
  }

  private static String quoteYaml(String text) {
    return "'" + text.replace("'", "''") + "'";
  }

  /** A TopK SAE with random weights, written as a sae-lens directory. */
  private void untrainedTopK(Path dir) {
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
    SaeCheckpoint.of(SaeConfig.ofTopK(dIn, dSae, k), t).write(dir);
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
