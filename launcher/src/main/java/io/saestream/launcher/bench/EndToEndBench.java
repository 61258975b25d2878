package io.saestream.launcher.bench;

import io.saestream.embedded.kafka.EmbeddedKafkaBroker;
import io.saestream.embedded.registry.EmbeddedSchemaRegistry;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.fold.Folding;
import io.saestream.sae.onnx.ExportOptions;
import io.saestream.sae.onnx.SaeOnnxExporter;
import io.saestream.schema.registry.RestSchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryClientConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The streams app end to end on an in-JVM KRaft broker and schema registry, against the bare
 * analyze graph, in one process: a synthetic topk SAE written as a sae-lens directory, app
 * instances configured through their YAML file (exactly-once v2), F32 ActivationBatch records
 * produced by a Java producer, FeatureBatch records read back by read_committed consumers.
 *
 * <ul>
 *   <li>(a) The bare analyze graph, run the way the app runs it: as many concurrent callers as the
 *       app has stream threads, each on one record's tokens, with the app's intra-op thread count
 *       (see {@link BareGraph}); plus, as references, the machine's cores in either pure layout (N
 *       callers × 1 thread, 1 caller × N threads), so that a layout choice cannot flatter the
 *       ratio: the goal ratio is taken against the best. Steady-state samples (callers running
 *       continuously through a window), half before, half after each round's backlogs, while the
 *       apps are idle.
 *   <li>(b) Per round and app, a backlog of records produced at once to the running app, timed from
 *       the first committed FeatureBatch read after the last acknowledgement to the last one;
 *       medians, their ratio to (a), the ratio per round against that round's own bare samples
 *       (robust to a machine whose load drifts), the rate inside the app (spacing of the
 *       FeatureBatch {@code produced_at} stamps), and "fully processed": until the app has
 *       committed the ends of every topic it reads, internal repartition topics included, which
 *       counts work done after the FeatureBatch (monitoring).
 *   <li>With {@code --monitoring compare}, two apps on their own topics, one without and one with
 *       monitoring (a rules file with a rule of each type, latent statistics), fed in alternating
 *       order round by round: the added cost of monitoring, from fully processed throughput and
 *       from process CPU time per record. {@code --compare-with} does the same for a second app
 *       that differs by a setting (commit interval, a Kafka property): an A/B of one setting on one
 *       machine state, for a machine shared with other work.
 *   <li>(c) Latency at a fraction of (b): records paced for a while, latency = read_committed
 *       arrival of the FeatureBatch minus the record timestamp set at send (= produced_at); the
 *       commit interval bounds it from below.
 *   <li>(d) Heap used after a GC and process RSS (VmRSS, peak VmHWM) with the apps idle.
 * </ul>
 *
 * <p>Before the rounds, warm-up rounds of the same work run for {@code --warm-up-seconds}, so that
 * the JIT has compiled the broker, client and bench paths; the compile time left inside the rounds
 * is printed.
 */
@Command(
    name = "e2e",
    mixinStandardHelpOptions = true,
    description =
        "End to end through an in-JVM broker: produce -> topology -> read_committed vs the bare"
            + " analyze graph in the app's thread layout, then latency at half load and memory;"
            + " --monitoring compare adds the cost of alerting and latent statistics.")
final class EndToEndBench implements Callable<Integer> {

  private static final String MODEL = "bench-model";
  private static final String HOOK = "blocks.8.hook_resid_pre";
  private static final String SAE_ID = "bench-topk";

  private static final Duration WAIT_LIMIT = Duration.ofMinutes(3);

  private static final String THREAD_METRICS = "stream-thread-metrics";

  /** Bare-graph sampling: callers settle, then are measured through a window. */
  private static final Duration BARE_RAMP_UP = Duration.ofMillis(150);

  private static final Duration BARE_WINDOW = Duration.ofMillis(600);

  @Mixin final SaeShapeOptions shape = SaeShapeOptions.throughputDefaults();

  @Option(names = "--tokens", defaultValue = "256", description = "Tokens per record.")
  int tokens;

  @Option(
      names = "--stream-threads",
      defaultValue = "2",
      description = "streams.threads of each app (and concurrent callers of the bare graph).")
  int streamThreads;

  @Option(
      names = "--intra-op-threads",
      defaultValue = "1",
      description = "inference.intra-op-threads of each app (and of the bare graph).")
  int intraOpThreads;

  @Option(names = "--partitions", defaultValue = "0", description = "0 = one per stream thread.")
  int partitions;

  @Option(
      names = "--commit-interval-ms",
      defaultValue = "100",
      description = "streams.commit-interval: with exactly-once, how long outputs wait.")
  int commitIntervalMs;

  @Option(
      names = "--kafka-property",
      description =
          "kafka.properties entry of the apps, KEY=VALUE (repeatable), e.g."
              + " main.consumer.max.partition.fetch.bytes=8388608.")
  Map<String, String> kafkaProperties = new LinkedHashMap<>();

  @Option(
      names = "--monitoring",
      defaultValue = "off",
      description =
          "off: the app without monitoring; on: with it; compare: both side by side, fed in"
              + " alternating order.")
  String monitoring;

  @Option(
      names = "--compare-with",
      description =
          "Adds a second app without monitoring, named tuned, that differs by these settings,"
              + " KEY=VALUE (repeatable): commit-interval-ms=N or kafka.<property>=V; it is fed in"
              + " alternating order with the first, as with --monitoring compare.")
  Map<String, String> compareWith = new LinkedHashMap<>();

  @Option(names = "--rounds", defaultValue = "5", description = "Throughput rounds.")
  int rounds;

  @Option(
      names = "--bare-samples",
      defaultValue = "4",
      description =
          "Bare-graph samples per layout and round, half before and half after the backlogs"
              + " (each: the callers run continuously, measured over 0.6 s).")
  int bareSamples;

  @Option(
      names = "--round-seconds",
      defaultValue = "6",
      description = "Backlog per round and app, in seconds of bare-graph work.")
  double roundSeconds;

  @Option(
      names = "--warm-up-seconds",
      defaultValue = "60",
      description = "Warm-up rounds (backlogs and bare samples) run at least this long.")
  double warmUpSeconds;

  @Option(
      names = "--latency-seconds",
      defaultValue = "20",
      description = "How long records are paced, per app.")
  double latencySeconds;

  @Option(
      names = "--latency-load",
      defaultValue = "0.5",
      description = "Paced rate as a fraction of the first app's end-to-end throughput.")
  double latencyLoad;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    checkOptions();
    PrintWriter out = spec.commandLine().getOut();
    Path work = Files.createTempDirectory("sae-stream-e2e-");
    try {
      run(out, work);
    } finally {
      deleteRecursively(work);
    }
    return 0;
  }

  private void checkOptions() {
    shape.requirePositive(spec.commandLine());
    requirePositive("--tokens", tokens);
    requirePositive("--stream-threads", streamThreads);
    requirePositive("--intra-op-threads", intraOpThreads);
    requirePositive("--commit-interval-ms", commitIntervalMs);
    requirePositive("--rounds", rounds);
    requirePositive("--bare-samples", bareSamples);
    requirePositive("--round-seconds", roundSeconds);
    requirePositive("--latency-seconds", latencySeconds);
    if (!(warmUpSeconds >= 0)) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--warm-up-seconds must be >= 0, was " + warmUpSeconds);
    }
    if (partitions < 0) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--partitions must be >= 0, was " + partitions);
    }
    if (!(latencyLoad > 0 && latencyLoad <= 1)) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--latency-load must be in (0, 1], was " + latencyLoad);
    }
    if (!List.of("off", "on", "compare").contains(monitoring)) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--monitoring must be off, on or compare, was '" + monitoring + "'");
    }
    if (!compareWith.isEmpty() && !monitoring.equals("off")) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--compare-with needs --monitoring off");
    }
    tunedVariant();
  }

  /** The variant --compare-with describes, or null without it; checks its keys. */
  private BenchApp.@Nullable Variant tunedVariant() {
    if (compareWith.isEmpty()) {
      return null;
    }
    Duration interval = null;
    Map<String, String> properties = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : compareWith.entrySet()) {
      if (e.getKey().equals("commit-interval-ms")) {
        try {
          interval = Duration.ofMillis(Long.parseLong(e.getValue()));
        } catch (NumberFormatException ex) {
          throw new CommandLine.ParameterException(
              spec.commandLine(),
              "--compare-with commit-interval-ms must be a number, was '" + e.getValue() + "'");
        }
        requirePositive("--compare-with commit-interval-ms", (double) interval.toMillis());
      } else if (e.getKey().startsWith("kafka.") && e.getKey().length() > "kafka.".length()) {
        properties.put(e.getKey().substring("kafka.".length()), e.getValue());
      } else {
        throw new CommandLine.ParameterException(
            spec.commandLine(),
            "--compare-with keys are commit-interval-ms and kafka.<property>, was '"
                + e.getKey()
                + "'");
      }
    }
    return new BenchApp.Variant("tuned", null, interval, properties);
  }

  private void requirePositive(String option, double value) {
    if (!(value > 0)) {
      String shown =
          value == Math.rint(value) ? Long.toString((long) value) : Double.toString(value);
      throw new CommandLine.ParameterException(
          spec.commandLine(), option + " must be > 0, was " + shown);
    }
  }

  private void run(PrintWriter out, Path work) throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    Path saeDir = work.resolve("sae");
    AnalyzeBench.syntheticTopK(shape.dIn, shape.dSae, shape.k).write(saeDir);
    byte[] model = exportLikeTheApp(saeDir);
    long recordBytes = (long) tokens * shape.dIn * Float.BYTES;
    // The broker's default limit (message.max.bytes ≈ 1 MiB) holds one 256 × 768 float32 record
    // (786 KiB + a few KiB of Avro); raise it per topic, and the producer's, for larger --tokens.
    int maxMessageBytes = (int) Math.max(1 << 20, 2 * recordBytes + (64 << 10));
    int topicPartitions = partitions == 0 ? streamThreads : partitions;
    BenchApp.Shared shared =
        new BenchApp.Shared(
            saeDir,
            SAE_ID,
            MODEL,
            HOOK,
            streamThreads,
            intraOpThreads,
            topicPartitions,
            Math.max(tokens, 4096),
            maxMessageBytes,
            Duration.ofMillis(commitIntervalMs),
            Map.copyOf(kafkaProperties));
    List<BenchApp.Variant> variants = new ArrayList<>();
    if (!monitoring.equals("on")) {
      variants.add(BenchApp.Variant.of("plain", null));
    }
    if (!monitoring.equals("off")) {
      Path rules = work.resolve("rules.yaml");
      Files.writeString(rules, rulesFile(), StandardCharsets.UTF_8);
      variants.add(BenchApp.Variant.of("monitored", rules));
    }
    BenchApp.Variant tuned = tunedVariant();
    if (tuned != null) {
      variants.add(tuned);
    }

    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.withDefaults().start();
        EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.start()) {
      SchemaRegistryClient registryClient =
          new RestSchemaRegistryClient(SchemaRegistryClientConfig.of(List.of(registry.url())));
      List<BenchApp> apps = new ArrayList<>();
      List<BareGraph> bares = new ArrayList<>();
      try (KafkaProducer<byte[], byte[]> producer =
          producer(broker.bootstrapServers(), maxMessageBytes)) {
        for (BenchApp.Variant v : variants) {
          apps.add(
              BenchApp.start(
                  v,
                  shared,
                  broker,
                  registry.url().toString(),
                  registryClient,
                  work,
                  tokens,
                  WAIT_LIMIT));
        }
        bares.add(BareGraph.open(model, streamThreads, intraOpThreads, tokens, shape.dIn, shape.k));
        // References: the machine's cores in either pure layout, so that a layout choice cannot
        // flatter the ratio (the goal ratio is taken against the best bare layout measured).
        int cores = Runtime.getRuntime().availableProcessors();
        Set<String> measured =
            new HashSet<>(Set.of(BareGraph.layout(streamThreads, intraOpThreads)));
        for (int[] layout : new int[][] {{cores, 1}, {1, cores}}) {
          if (measured.add(BareGraph.layout(layout[0], layout[1]))) {
            bares.add(BareGraph.open(model, layout[0], layout[1], tokens, shape.dIn, shape.k));
          }
        }
        ActivationRecords records =
            new ActivationRecords(registryClient, MODEL, HOOK, tokens, shape.dIn);
        measure(out, err, apps, bares, producer, records, topicPartitions, broker);
      } finally {
        closeAll(bares, apps);
      }
    }
  }

  private void measure(
      PrintWriter out,
      PrintWriter err,
      List<BenchApp> apps,
      List<BareGraph> bares,
      KafkaProducer<byte[], byte[]> producer,
      ActivationRecords records,
      int topicPartitions,
      EmbeddedKafkaBroker broker)
      throws Exception {
    String loadAtStart = ProcessFigures.loadAverage();
    // Sizes the backlogs from the app layout: --round-seconds of bare-graph work each.
    for (BareGraph bare : bares) {
      bare.sample(BARE_RAMP_UP, BARE_WINDOW);
    }
    double warmTokensPerSecond = bares.get(0).sample(BARE_RAMP_UP, BARE_WINDOW).tokensPerSecond();
    int perRound = Math.max(10, (int) Math.ceil(warmTokensPerSecond * roundSeconds / tokens));
    // Rounds of the real work until --warm-up-seconds have passed: the JIT keeps compiling the
    // broker, Kafka client, Avro and bench paths for a minute or more, and its compiler threads
    // would otherwise share the cores with the measured rounds (steady state is what a
    // long-running app sees; the compile time left in the rounds is printed).
    long warmUntil = System.nanoTime() + (long) (warmUpSeconds * 1e9);
    int warmRounds = 0;
    do {
      warmRounds++;
      err.printf(
          Locale.ROOT,
          "warm-up round %d: %d records per app, bare samples%n",
          warmRounds,
          perRound);
      err.flush();
      for (BenchApp app : apps) {
        drain(app, producer, records, perRound, "warm" + warmRounds);
      }
      for (BareGraph bare : bares) {
        bare.sample(BARE_RAMP_UP, BARE_WINDOW);
      }
    } while (System.nanoTime() < warmUntil);

    long jitAtStart = jitMillis();
    int layouts = bares.size();
    double[][] bareRound = new double[layouts][rounds];
    List<List<Double>> bareAll = new ArrayList<>();
    List<List<Double>> callMsAll = new ArrayList<>();
    for (int l = 0; l < layouts; l++) {
      bareAll.add(new ArrayList<>());
      callMsAll.add(new ArrayList<>());
    }
    Drain[][] drains = new Drain[apps.size()][rounds];
    for (int r = 0; r < rounds; r++) {
      List<List<Double>> thisRound = new ArrayList<>();
      for (int l = 0; l < layouts; l++) {
        thisRound.add(new ArrayList<>());
      }
      int half = Math.max(1, bareSamples / 2);
      sampleBare(bares, half, thisRound, callMsAll);
      for (int a = 0; a < apps.size(); a++) {
        // Alternate which app goes first, so neither always follows the other's backlog.
        int index = r % 2 == 0 ? a : apps.size() - 1 - a;
        BenchApp app = apps.get(index);
        drains[index][r] = drain(app, producer, records, perRound, "r" + r);
      }
      sampleBare(bares, Math.max(1, bareSamples - half), thisRound, callMsAll);
      StringBuilder line = new StringBuilder();
      line.append(String.format(Locale.ROOT, "round %d/%d: bare", r + 1, rounds));
      for (int l = 0; l < layouts; l++) {
        bareRound[l][r] = median(thisRound.get(l));
        bareAll.get(l).addAll(thisRound.get(l));
        line.append(String.format(Locale.ROOT, " %.0f", bareRound[l][r]));
      }
      for (int a = 0; a < apps.size(); a++) {
        Drain d = drains[a][r];
        line.append(
            String.format(
                Locale.ROOT,
                "; %s in-app %.0f, end to end %.0f, fully processed %.0f tokens/s",
                apps.get(a).variant().name(),
                d.inAppTokensPerSecond(),
                d.endToEndTokensPerSecond(),
                d.settledTokensPerSecond()));
      }
      err.println(line.append(String.format(Locale.ROOT, " (%d records)", perRound)));
      err.flush();
    }
    long jitDuringRounds = jitMillis() - jitAtStart;
    // Read now: the metrics' rolling windows (2 × 30 s) then cover the last rounds.
    List<Inside> inside = new ArrayList<>();
    for (BenchApp app : apps) {
      inside.add(Inside.read(app.app().kafkaStreams()));
    }
    for (BareGraph bare : bares) {
      bare.close(); // their copies of the weights must not count in the memory figures below
    }

    double firstEndToEnd = median(column(drains[0], Drain::endToEndTokensPerSecond));
    double recordsPerSecond = latencyLoad * firstEndToEnd / tokens;
    List<long[]> latencies = new ArrayList<>();
    for (BenchApp app : apps) {
      err.printf(
          Locale.ROOT,
          "latency (%s): %.2f records/s for %.0f s%n",
          app.variant().name(),
          recordsPerSecond,
          latencySeconds);
      err.flush();
      latencies.add(pacedLatencies(app, producer, records, recordsPerSecond));
    }
    List<Long> alerts = new ArrayList<>();
    List<Integer> rules = new ArrayList<>();
    for (BenchApp app : apps) {
      boolean monitored = app.variant().monitored();
      alerts.add(monitored ? countRecords(broker.bootstrapServers(), app.alertsTopic()) : 0);
      rules.add(monitored ? app.app().rules().current().size() : 0);
    }
    ProcessFigures.Memory memory = ProcessFigures.Memory.measure();

    Report report =
        new Report(
            bares.stream().map(BareGraph::layout).toList(),
            bareAll,
            callMsAll,
            bareRound,
            apps.stream().map(a -> a.variant().name()).toList(),
            drains,
            inside,
            alerts,
            rules,
            perRound,
            recordsPerSecond,
            latencies,
            memory,
            loadAtStart,
            topicPartitions,
            jitDuringRounds);
    print(out, report);
  }

  private void sampleBare(
      List<BareGraph> bares,
      int samples,
      List<List<Double>> tokensPerSecond,
      List<List<Double>> callMs)
      throws InterruptedException {
    for (int s = 0; s < samples; s++) {
      for (int l = 0; l < bares.size(); l++) {
        BareGraph.Sample sample = bares.get(l).sample(BARE_RAMP_UP, BARE_WINDOW);
        tokensPerSecond.get(l).add(sample.tokensPerSecond());
        callMs.get(l).addAll(sample.callMs());
      }
    }
  }

  /** Throughputs of one drained backlog, in tokens/s, and process CPU per record. */
  private record Drain(
      double endToEndTokensPerSecond,
      double inAppTokensPerSecond,
      double settledTokensPerSecond,
      double cpuMsPerRecord) {}

  /**
   * Produces {@code count} records at once and measures how fast the app drains them: end to end,
   * from the first committed FeatureBatch read after the last acknowledgement to the last one;
   * fully processed, to when the app had committed the ends of all its inputs; in the app, from the
   * spacing of the {@code produced_at} of the FeatureBatch records it made after that
   * acknowledgement; and the process CPU time from the acknowledgement to fully processed, per
   * FeatureBatch made in that time.
   */
  private Drain drain(
      BenchApp app,
      KafkaProducer<byte[], byte[]> producer,
      ActivationRecords records,
      int count,
      String stream)
      throws Exception {
    FeatureReader reader = app.reader();
    long target = reader.count() + count;
    List<Future<?>> sent = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      sent.add(
          producer.send(
              records.record(
                  app.activationsTopic(),
                  app.variant().name() + "-" + stream,
                  i,
                  Instant.ofEpochMilli(System.currentTimeMillis()))));
    }
    for (Future<?> f : sent) {
      f.get();
    }
    long ackNanos = System.nanoTime();
    long ackWallMs = System.currentTimeMillis();
    double cpuAtAck = ProcessFigures.cpuTimeMs();
    reader.awaitCount(target, app.app(), () -> null);
    BenchApp.Settled settled = app.awaitSettled(WAIT_LIMIT);
    double cpuAtEnd = ProcessFigures.cpuTimeMs();

    FeatureReader.Arrival first = reader.firstArrivalAfter(ackNanos);
    FeatureReader.Arrival last = reader.arrivalReaching(target);
    long drained = last.count() - first.count();
    if (first.nanos() >= last.nanos() || drained < count / 2) {
      throw new IllegalStateException(
          "the app kept up with the producer ("
              + drained
              + " of "
              + count
              + " records left after the last acknowledgement): raise --round-seconds");
    }
    long[] madeAt = reader.producedAtMs(target - count, target);
    Arrays.sort(madeAt);
    int firstAfter = 0;
    while (firstAfter < madeAt.length && madeAt[firstAfter] < ackWallMs) {
      firstAfter++;
    }
    int made = madeAt.length - firstAfter;
    double inApp =
        made < 2
            ? Double.NaN
            : (made - 1)
                * (double) tokens
                / ((madeAt[madeAt.length - 1] - madeAt[firstAfter]) / 1e3);
    long settledNanos = Math.max(settled.settledNanos(), last.nanos());
    return new Drain(
        drained * (double) tokens / ((last.nanos() - first.nanos()) / 1e9),
        inApp,
        drained * (double) tokens / ((settledNanos - first.nanos()) / 1e9),
        made == 0 ? Double.NaN : (cpuAtEnd - cpuAtAck) / made);
  }

  /** Sends records at {@code recordsPerSecond} and returns their latencies in ms, sorted. */
  private long[] pacedLatencies(
      BenchApp app,
      KafkaProducer<byte[], byte[]> producer,
      ActivationRecords records,
      double recordsPerSecond)
      throws Exception {
    FeatureReader reader = app.reader();
    int count = Math.max(1, (int) Math.round(recordsPerSecond * latencySeconds));
    long first = reader.count();
    AtomicInteger next = new AtomicInteger();
    AtomicReference<@Nullable Exception> failure = new AtomicReference<>();
    ScheduledExecutorService pacer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "bench-e2e-pacer");
              t.setDaemon(true);
              return t;
            });
    String stream = app.variant().name() + "-latency";
    Runnable sendNext =
        () -> {
          int i = next.getAndIncrement();
          if (i >= count) {
            return;
          }
          try {
            // A fresh record per send: produced_at and the record timestamp are the send time.
            // Send failures arrive in the callback, not through the returned future.
            Future<?> unused =
                producer.send(
                    records.record(
                        app.activationsTopic(),
                        stream,
                        i,
                        Instant.ofEpochMilli(System.currentTimeMillis())),
                    (metadata, e) -> {
                      if (e != null) {
                        failure.compareAndSet(null, e);
                      }
                    });
          } catch (RuntimeException e) {
            failure.compareAndSet(null, e);
          }
        };
    ScheduledFuture<?> pacing =
        pacer.scheduleAtFixedRate(
            sendNext, 0, Math.round(1e9 / recordsPerSecond), TimeUnit.NANOSECONDS);
    try {
      reader.awaitCount(first + count, app.app(), failure::get);
    } finally {
      pacing.cancel(false);
      pacer.shutdownNow();
    }
    long[] latencies = reader.latenciesMs(first, first + count);
    Arrays.sort(latencies);
    return latencies;
  }

  /** Everything measured, for {@link #print}; arrays are owned, not copied. */
  private static final class Report {
    final List<String> layouts;
    final List<List<Double>> bareTokensPerSecond;
    final List<List<Double>> bareCallMs;
    final double[][] bareRound;
    final List<String> apps;
    final Drain[][] drains;
    final List<Inside> inside;
    final List<Long> alerts;
    final List<Integer> rules;
    final int recordsPerRound;
    final double pacedRecordsPerSecond;
    final List<long[]> latencies;
    final ProcessFigures.Memory memory;
    final String loadAtStart;
    final int partitions;
    final long jitMillis;

    Report(
        List<String> layouts,
        List<List<Double>> bareTokensPerSecond,
        List<List<Double>> bareCallMs,
        double[][] bareRound,
        List<String> apps,
        Drain[][] drains,
        List<Inside> inside,
        List<Long> alerts,
        List<Integer> rules,
        int recordsPerRound,
        double pacedRecordsPerSecond,
        List<long[]> latencies,
        ProcessFigures.Memory memory,
        String loadAtStart,
        int partitions,
        long jitMillis) {
      this.layouts = layouts;
      this.bareTokensPerSecond = bareTokensPerSecond;
      this.bareCallMs = bareCallMs;
      this.bareRound = bareRound;
      this.apps = apps;
      this.drains = drains;
      this.inside = inside;
      this.alerts = alerts;
      this.rules = rules;
      this.recordsPerRound = recordsPerRound;
      this.pacedRecordsPerSecond = pacedRecordsPerSecond;
      this.latencies = latencies;
      this.memory = memory;
      this.loadAtStart = loadAtStart;
      this.partitions = partitions;
      this.jitMillis = jitMillis;
    }
  }

  private void print(PrintWriter out, Report r) {
    long recordBytes = (long) tokens * shape.dIn * Float.BYTES;
    out.printf(
        Locale.ROOT,
        "sae-stream bench e2e  %s, %s (%d CPUs), Java %s; 1-min load average %s at start,"
            + " %s at end (anything above ~1 means other processes shared the CPUs)%n",
        LocalDate.now(ZoneOffset.UTC),
        ProcessFigures.cpuModel(),
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"),
        r.loadAtStart,
        ProcessFigures.loadAverage());
    out.printf(
        Locale.ROOT,
        "  topk d_in=%d d_sae=%d k=%d; %d-token F32 records (%d KiB, with token ids and text);"
            + " CPU; per app %s, %d partition(s)%n",
        shape.dIn,
        shape.dSae,
        shape.k,
        tokens,
        recordBytes >> 10,
        BareGraph.layout(streamThreads, intraOpThreads)
            .replace("caller", "stream thread")
            .replace("intra-op", "ORT intra-op"),
        r.partitions);
    out.printf(
        Locale.ROOT,
        "  exactly_once_v2, commit.interval.ms=%d, kafka.properties %s; in-JVM KRaft broker and"
            + " schema registry in the same process; JIT compiling during the rounds: %.1f s%n",
        commitIntervalMs,
        kafkaProperties.isEmpty() ? "{}" : kafkaProperties,
        r.jitMillis / 1e3);
    out.printf(Locale.ROOT, "  (a) bare analyze graph, %d-token calls:%n", tokens);
    double bestBare = 0;
    for (int l = 0; l < r.layouts.size(); l++) {
      double tps = median(r.bareTokensPerSecond.get(l));
      bestBare = Math.max(bestBare, tps);
      out.printf(
          Locale.ROOT,
          "      %-32s: %6.0f tokens/s, call %.1f ms (medians of %d samples, %d calls)%s%n",
          r.layouts.get(l),
          tps,
          median(r.bareCallMs.get(l)),
          r.bareTokensPerSecond.get(l).size(),
          r.bareCallMs.get(l).size(),
          l == 0 ? "  <- the app's layout" : "  (reference: the machine's cores)");
    }
    double appBare = median(r.bareTokensPerSecond.get(0));
    for (int a = 0; a < r.apps.size(); a++) {
      Drain[] d = r.drains[a];
      double e2e = median(column(d, Drain::endToEndTokensPerSecond));
      double[] paired = new double[rounds];
      for (int i = 0; i < rounds; i++) {
        double best = 0;
        for (int l = 0; l < r.layouts.size(); l++) {
          best = Math.max(best, r.bareRound[l][i]);
        }
        paired[i] = d[i].endToEndTokensPerSecond() / best;
      }
      out.printf(
          Locale.ROOT,
          "  (b) end to end, %s app: %.0f tokens/s (median of rounds %s; %d records each,"
              + " produce -> topology -> read_committed)%n",
          r.apps.get(a),
          e2e,
          format(column(d, Drain::endToEndTokensPerSecond)),
          r.recordsPerRound);
      out.printf(
          Locale.ROOT,
          "      ratio to (a)       : %.3f against the app's layout, %.3f against the best bare"
              + " layout (goal >= 0.8); per round, against that round's best bare: %s (median"
              + " %.3f)%n",
          e2e / appBare,
          e2e / bestBare,
          format(paired, "%.3f"),
          median(paired));
      out.printf(
          Locale.ROOT,
          "      in the app         : %.0f tokens/s (median of rounds %s; spacing of the"
              + " FeatureBatch produced_at stamps, i.e. before commit and read)%n",
          median(column(d, Drain::inAppTokensPerSecond)),
          format(column(d, Drain::inAppTokensPerSecond)));
      out.printf(
          Locale.ROOT,
          "      fully processed    : %.0f tokens/s (median of rounds %s; until every input and"
              + " internal topic was committed); process CPU %.1f ms per record%n",
          median(column(d, Drain::settledTokensPerSecond)),
          format(column(d, Drain::settledTokensPerSecond)),
          median(column(d, Drain::cpuMsPerRecord)));
      Inside in = r.inside.get(a);
      out.printf(
          Locale.ROOT,
          "      stream threads     : ORT call %.1f ms avg (bare median %.1f ms); time processing"
              + " %.0f%%, committing %.0f%% (%.1f ms avg), polling %.0f%% (Kafka Streams metrics over"
              + " the last ~60 s, idle periods included)%n",
          in.inferenceMs(),
          median(r.bareCallMs.get(0)),
          in.processRatio() * 100,
          in.commitRatio() * 100,
          in.commitMs(),
          in.pollRatio() * 100);
      if (r.apps.get(a).equals("monitored")) {
        out.printf(
            Locale.ROOT,
            "      alerts             : %d FeatureAlert records over the whole run, %d rules in"
                + " force%n",
            r.alerts.get(a),
            r.rules.get(a));
      }
    }
    if (r.apps.size() == 2 && r.apps.get(1).equals("tuned")) {
      Drain[] plain = r.drains[0];
      Drain[] tuned = r.drains[1];
      double[] gain = new double[rounds];
      double[] cpu = new double[rounds];
      for (int i = 0; i < rounds; i++) {
        gain[i] = tuned[i].settledTokensPerSecond() / plain[i].settledTokensPerSecond() - 1;
        cpu[i] = tuned[i].cpuMsPerRecord() / plain[i].cpuMsPerRecord() - 1;
      }
      out.printf(
          Locale.ROOT,
          "  tuned (%s) vs plain : %+.1f%% fully processed tokens/s (per round %s), %+.1f%%"
              + " process CPU per record (per round %s)%n",
          compareWith,
          median(gain) * 100,
          format(scale(gain, 100), "%+.1f%%"),
          median(cpu) * 100,
          format(scale(cpu, 100), "%+.1f%%"));
    }
    if (r.apps.size() == 2 && r.apps.get(1).equals("monitored")) {
      Drain[] plain = r.drains[0];
      Drain[] monitored = r.drains[1];
      double[] added = new double[rounds];
      double[] addedCpu = new double[rounds];
      for (int i = 0; i < rounds; i++) {
        added[i] = plain[i].settledTokensPerSecond() / monitored[i].settledTokensPerSecond() - 1;
        addedCpu[i] = monitored[i].cpuMsPerRecord() / plain[i].cpuMsPerRecord() - 1;
      }
      out.printf(
          Locale.ROOT,
          "  monitoring cost        : +%.1f%% time per record fully processed (per round %s;"
              + " goal <= +15%%), +%.1f%% process CPU per record (per round %s)%n",
          median(added) * 100,
          format(scale(added, 100), "%+.1f%%"),
          median(addedCpu) * 100,
          format(scale(addedCpu, 100), "%+.1f%%"));
    }
    for (int a = 0; a < r.apps.size(); a++) {
      long[] lat = r.latencies.get(a);
      out.printf(
          Locale.ROOT,
          "  (c) latency, %s app, at %.0f%% of the first app's (b): %.2f records/s for %.0f s, %d"
              + " records: p50 %d ms, p99 %d ms, max %d ms (send -> committed FeatureBatch"
              + " read)%n",
          r.apps.get(a),
          latencyLoad * 100,
          r.pacedRecordsPerSecond,
          latencySeconds,
          lat.length,
          percentile(lat, 0.50),
          percentile(lat, 0.99),
          lat[lat.length - 1]);
    }
    ProcessFigures.Memory memory = r.memory;
    out.printf(
        Locale.ROOT,
        "  (d) memory, apps idle  : heap used after GC %d MiB (committed %d MiB, max %d MiB); RSS"
            + " %d MiB, peak RSS %d MiB (whole process: broker, registry, %d app(s), bench"
            + " clients)%n",
        memory.heapUsedAfterGc() >> 20,
        memory.heapCommitted() >> 20,
        memory.maxHeap() >> 20,
        memory.rssKib() >> 10,
        memory.peakRssKib() >> 10,
        r.apps.size());
    out.flush();
  }

  /**
   * The rules a user would deploy for a guardrail on this SAE: one of each type, over latents that
   * fire now and then in the synthetic traffic (the latent statistics come with monitoring).
   */
  private static String rulesFile() {
    return String.join(
        "\n",
        "rules:",
        "  - id: latent-7-burst",
        "    type: latent-threshold",
        "    sae-id: " + SAE_ID,
        "    severity: WARNING",
        "    window: 1m",
        "    latent: 7",
        "    min-activation: 0.0",
        "    min-tokens: 4",
        "  - id: latent-11-rate",
        "    type: latent-rate",
        "    sae-id: " + SAE_ID,
        "    window: 10s",
        "    latent: 11",
        "    factor: 3",
        "    warmup-windows: 3",
        "  - id: pii-probe",
        "    type: probe",
        "    sae-id: " + SAE_ID,
        "    severity: CRITICAL",
        "    weights: {3: 0.8, 17: 0.6, 42: 0.9, 99: 0.5, 256: 0.7, 1024: 0.4, 4096: 0.6,"
            + " 9000: 0.3}",
        "    bias: -0.1",
        "    threshold: 1.0",
        "    mode: token",
        "  - id: topic-probe-mean",
        "    type: probe",
        "    sae-id: " + SAE_ID,
        "    weights: {5: 1.0, 50: 1.0, 500: 1.0, 5000: 1.0}",
        "    threshold: 0.05",
        "    mode: sequence-mean",
        "  - id: fvu-drift",
        "    type: drift",
        "    sae-id: " + SAE_ID,
        "    window: 10s",
        "    metric: fvu",
        "    threshold: 1.5",
        "  - id: error-drift",
        "    type: drift",
        "    sae-id: " + SAE_ID,
        "    window: 10s",
        "    metric: mean-relative-error",
        "    threshold: 2.0",
        "");
  }

  /** Where the stream threads spend their time, from one app's metrics (rolling windows). */
  private record Inside(
      double inferenceMs,
      double processRatio,
      double commitRatio,
      double commitMs,
      double pollRatio) {

    static Inside read(KafkaStreams streams) {
      Map<MetricName, ? extends Metric> metrics = streams.metrics();
      return new Inside(
          mean(metrics, "stream-sae-inference-metrics", "inference-latency-avg"),
          mean(metrics, THREAD_METRICS, "process-ratio"),
          mean(metrics, THREAD_METRICS, "commit-ratio"),
          mean(metrics, THREAD_METRICS, "commit-latency-avg"),
          mean(metrics, THREAD_METRICS, "poll-ratio"));
    }

    private static double mean(
        Map<MetricName, ? extends Metric> metrics, String group, String name) {
      return metrics.entrySet().stream()
          .filter(e -> e.getKey().group().equals(group) && e.getKey().name().equals(name))
          .map(e -> e.getValue().metricValue())
          .filter(v -> v instanceof Double d && Double.isFinite(d))
          .mapToDouble(v -> (Double) v)
          .average()
          .orElse(Double.NaN);
    }
  }

  /** The analyze graph exactly as the app's loader builds it (open, fold, export in memory). */
  private static byte[] exportLikeTheApp(Path saeDir) {
    try (SaeCheckpoint checkpoint = SaeCheckpoint.open(saeDir)) {
      return SaeOnnxExporter.exportToBytes(
          Folding.toInference(checkpoint),
          ExportOptions.defaults().withSaeId(SAE_ID).withVersion(0));
    }
  }

  private static KafkaProducer<byte[], byte[]> producer(String bootstrap, int maxMessageBytes) {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(maxMessageBytes));
    props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Long.toString(256L << 20));
    return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
  }

  /** Time the JIT compilers have spent so far in this JVM, ms (0 where not reported). */
  private static long jitMillis() {
    CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    return jit != null && jit.isCompilationTimeMonitoringSupported()
        ? jit.getTotalCompilationTime()
        : 0;
  }

  /** Committed records in {@code topic}, read from the beginning to its end. */
  private static long countRecords(String bootstrap, String topic) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> ends = consumer.endOffsets(parts);
      long count = 0;
      long deadline = System.nanoTime() + WAIT_LIMIT.toNanos();
      while (parts.stream().anyMatch(p -> consumer.position(p) < ends.getOrDefault(p, 0L))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("could not read " + topic + " to its end");
        }
        count += consumer.poll(Duration.ofMillis(200)).count();
      }
      return count;
    }
  }

  @SafeVarargs
  private static void closeAll(List<? extends AutoCloseable>... groups) throws Exception {
    Exception first = null;
    for (List<? extends AutoCloseable> group : groups) {
      for (AutoCloseable c : group) {
        try {
          c.close();
        } catch (Exception e) {
          if (first == null) {
            first = e;
          } else {
            first.addSuppressed(e);
          }
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  private static double[] column(Drain[] drains, java.util.function.ToDoubleFunction<Drain> f) {
    return Arrays.stream(drains).mapToDouble(f).toArray();
  }

  private static double[] scale(double[] values, double factor) {
    return Arrays.stream(values).map(v -> v * factor).toArray();
  }

  private static double median(List<Double> values) {
    return median(values.stream().mapToDouble(Double::doubleValue).toArray());
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  /** Nearest-rank percentile of sorted {@code values}. */
  private static long percentile(long[] sorted, double p) {
    int rank = (int) Math.ceil(p * sorted.length);
    return sorted[Math.max(0, rank - 1)];
  }

  private static String format(double[] values) {
    return format(values, "%.0f");
  }

  private static String format(double[] values, String pattern) {
    StringBuilder s = new StringBuilder();
    for (double v : values) {
      s.append(s.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, pattern, v));
    }
    return s.toString();
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
