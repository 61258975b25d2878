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
import io.saestream.schema.serde.AvroSerdeConfig;
import io.saestream.schema.serde.SpecificAvroDeserializer;
import io.saestream.schema.serde.SpecificAvroSerializer;
import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.Dtype;
import io.saestream.schema.v1.FeatureBatch;
import io.saestream.streams.StreamsApp;
import io.saestream.streams.config.Device;
import io.saestream.streams.config.InferenceSettings;
import io.saestream.streams.config.KafkaSettings;
import io.saestream.streams.config.SaeDeployment;
import io.saestream.streams.config.SchemaRegistrySettings;
import io.saestream.streams.config.StreamsAppConfig;
import io.saestream.streams.config.StreamsSettings;
import io.saestream.streams.config.TopicNames;
import io.saestream.streams.errors.DeadLetterMetrics;
import io.saestream.streams.inference.InferenceEngine;
import io.saestream.streams.inference.SaeSession;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The streams app end to end on an in-JVM KRaft broker and schema registry, against the bare
 * analyze graph, in one process: a synthetic topk SAE written as a sae-lens directory, one app
 * instance (exactly-once v2), F32 ActivationBatch records produced by a Java producer, FeatureBatch
 * records read back by a read_committed consumer.
 *
 * <ul>
 *   <li>Throughput, interleaved round by round: (a) the bare analyze graph, a session over the
 *       bytes the app exports, called with one record's tokens while the app is idle (half the
 *       calls before, half after each backlog); (b) a backlog of records produced at once to the
 *       running app, timed from the first committed FeatureBatch read after the last
 *       acknowledgement to the last one. Medians of each, their ratio, the ratio per round against
 *       that round's own bare calls (robust to a machine whose load drifts), and the rate inside
 *       the app (spacing of the FeatureBatch {@code produced_at} stamps), which separates the cost
 *       of processing from that of committing and reading.
 *   <li>(c) Latency at a fraction of (b): records paced for a while, latency = read_committed
 *       arrival of the FeatureBatch minus the record timestamp set at send (= produced_at); the
 *       commit interval bounds it from below.
 *   <li>(d) Heap used after a GC and process RSS (VmRSS, peak VmHWM) with the app running idle.
 * </ul>
 */
@Command(
    name = "e2e",
    mixinStandardHelpOptions = true,
    description =
        "End to end through an in-JVM broker: produce -> topology -> read_committed vs the bare"
            + " analyze graph, then latency at half load and memory.")
final class EndToEndBench implements Callable<Integer> {

  private static final String MODEL = "bench-model";
  private static final String HOOK = "blocks.8.hook_resid_pre";
  private static final String SAE_ID = "bench-topk";
  private static final String APP_ID = "sae-stream-bench-e2e";

  /** Distinct activation blocks cycled through, so the broker does not see one value repeated. */
  private static final int DISTINCT_RECORDS = 8;

  private static final Duration WAIT_LIMIT = Duration.ofMinutes(3);

  private static final String THREAD_METRICS = "stream-thread-metrics";

  @Option(names = "--d-in", defaultValue = "768")
  int dIn;

  @Option(names = "--d-sae", defaultValue = "16384")
  int dSae;

  @Option(names = "--k", defaultValue = "32")
  int k;

  @Option(names = "--tokens", defaultValue = "256", description = "Tokens per record.")
  int tokens;

  @Option(names = "--intra-op-threads", defaultValue = "2", description = "ORT intra-op threads.")
  int intraOpThreads;

  @Option(names = "--stream-threads", defaultValue = "1", description = "Kafka Streams threads.")
  int streamThreads;

  @Option(names = "--partitions", defaultValue = "0", description = "0 = one per stream thread.")
  int partitions;

  @Option(
      names = "--commit-interval-ms",
      defaultValue = "100",
      description = "commit.interval.ms: with exactly-once, how long outputs wait to be visible.")
  int commitIntervalMs;

  @Option(names = "--rounds", defaultValue = "5", description = "Throughput rounds.")
  int rounds;

  @Option(names = "--bare-calls", defaultValue = "12", description = "Bare calls per round.")
  int bareCalls;

  @Option(
      names = "--round-seconds",
      defaultValue = "6",
      description = "Backlog per round, in seconds of bare-graph work.")
  double roundSeconds;

  @Option(
      names = "--latency-seconds",
      defaultValue = "20",
      description = "How long records are paced.")
  double latencySeconds;

  @Option(
      names = "--latency-load",
      defaultValue = "0.5",
      description = "Paced rate as a fraction of the measured end-to-end throughput.")
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
    requirePositive("--d-in", dIn);
    requirePositive("--d-sae", dSae);
    requirePositive("--k", k);
    requirePositive("--tokens", tokens);
    requirePositive("--stream-threads", streamThreads);
    requirePositive("--commit-interval-ms", commitIntervalMs);
    requirePositive("--rounds", rounds);
    requirePositive("--bare-calls", bareCalls);
    requirePositive("--round-seconds", roundSeconds);
    requirePositive("--latency-seconds", latencySeconds);
    if (intraOpThreads < 0 || partitions < 0) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--intra-op-threads and --partitions must be >= 0");
    }
    if (!(latencyLoad > 0 && latencyLoad <= 1)) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--latency-load must be in (0, 1], was " + latencyLoad);
    }
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
    AnalyzeBench.syntheticTopK(dIn, dSae, k).write(saeDir);
    byte[] model = exportLikeTheApp(saeDir);
    InferenceSettings inference = new InferenceSettings(Device.CPU, 0, intraOpThreads);
    long recordBytes = (long) tokens * dIn * Float.BYTES;
    // The broker's default limit (message.max.bytes ≈ 1 MiB) holds one 256 × 768 float32 record
    // (786 KiB + ~100 B of Avro); raise it per topic, and the producer's, for larger --tokens.
    int maxMessageBytes = (int) Math.max(1 << 20, 2 * recordBytes + (64 << 10));

    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.withDefaults().start();
        EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.start();
        InferenceEngine engine = InferenceEngine.create(inference)) {
      SchemaRegistryClient registryClient =
          new RestSchemaRegistryClient(SchemaRegistryClientConfig.of(List.of(registry.url())));
      TopicNames topics = TopicNames.defaults();
      int topicPartitions = partitions == 0 ? streamThreads : partitions;
      createTopics(broker, topics, topicPartitions, maxMessageBytes);
      StreamsAppConfig config =
          new StreamsAppConfig(
              new KafkaSettings(broker.bootstrapServers(), APP_ID, Map.of()),
              new SchemaRegistrySettings(List.of(registry.url()), null, true),
              topics,
              new StreamsSettings(
                  streamThreads,
                  Math.max(tokens, StreamsSettings.DEFAULT_MAX_TOKENS_PER_RECORD),
                  work.resolve("state"),
                  Duration.ofMillis(commitIntervalMs),
                  Duration.ofSeconds(30)),
              inference,
              List.of(SaeDeployment.of(SAE_ID, saeDir).withHook(MODEL, HOOK)));
      Records records = new Records(registryClient, topics.activations());
      SaeSession bare = engine.openSession("bare-" + SAE_ID, model);
      try (StreamsApp app = StreamsApp.start(config, registryClient, Clock.systemUTC());
          KafkaProducer<byte[], byte[]> producer =
              producer(broker.bootstrapServers(), maxMessageBytes);
          FeatureReader reader =
              FeatureReader.start(
                  broker.bootstrapServers(), topics.features(), registryClient, tokens)) {
        awaitRunning(app);
        String loadAtStart = loadAverage();
        FloatBuffer x = directFloats(activations(0));
        double[] warm = new double[5];
        for (int i = 0; i < warm.length; i++) {
          warm[i] = timeBare(bare, x);
        }
        // Sizes the backlogs: --round-seconds of bare-graph work each.
        double warmTokensPerSecond = tokens / median(warm) * 1e3;
        int perRound = Math.max(10, (int) Math.ceil(warmTokensPerSecond * roundSeconds / tokens));
        int warmUp = Math.max(5, perRound / 2);
        err.printf(Locale.ROOT, "warm-up: %d records through the app%n", warmUp);
        err.flush();
        produceAndAwait(app, producer, reader, records, warmUp);

        // Each round: half the bare calls, a backlog drained by the app, the other half; so that
        // both see the same machine (the bare calls run while the app is idle).
        double[] bareMs = new double[rounds * bareCalls];
        double[] e2eTokensPerSecond = new double[rounds];
        double[] appTokensPerSecond = new double[rounds];
        double[] pairedRatios = new double[rounds];
        for (int r = 0; r < rounds; r++) {
          int from = r * bareCalls;
          int half = bareCalls / 2;
          for (int c = 0; c < half; c++) {
            bareMs[from + c] = timeBare(bare, x);
          }
          Drain drain = drainBacklog(app, producer, reader, records, perRound);
          for (int c = half; c < bareCalls; c++) {
            bareMs[from + c] = timeBare(bare, x);
          }
          double roundBareTokensPerSecond =
              tokens / median(Arrays.copyOfRange(bareMs, from, from + bareCalls)) * 1e3;
          e2eTokensPerSecond[r] = drain.endToEndTokensPerSecond();
          appTokensPerSecond[r] = drain.inAppTokensPerSecond();
          pairedRatios[r] = e2eTokensPerSecond[r] / roundBareTokensPerSecond;
          err.printf(
              Locale.ROOT,
              "round %d/%d: bare %.0f, in-app %.0f, end to end %.0f tokens/s (%d records)%n",
              r + 1,
              rounds,
              roundBareTokensPerSecond,
              appTokensPerSecond[r],
              e2eTokensPerSecond[r],
              perRound);
          err.flush();
        }
        // Read now: the metrics' rolling windows (2 × 30 s) then cover the last rounds.
        Inside inside = Inside.read(app.kafkaStreams());
        bare.close(); // its copy of the weights must not count in the memory figures below

        double recordsPerSecond = latencyLoad * median(e2eTokensPerSecond) / tokens;
        err.printf(
            Locale.ROOT, "latency: %.2f records/s for %.0f s%n", recordsPerSecond, latencySeconds);
        err.flush();
        long[] latencies = pacedLatencies(app, producer, reader, records, recordsPerSecond);
        Memory memory = Memory.measure();

        print(
            out,
            engine.provider().toString(),
            topicPartitions,
            loadAtStart,
            new Throughput(bareMs, e2eTokensPerSecond, appTokensPerSecond, pairedRatios, perRound),
            inside,
            recordsPerSecond,
            latencies,
            memory);
      } finally {
        bare.close();
      }
    }
  }

  private void print(
      PrintWriter out,
      String provider,
      int topicPartitions,
      String loadAtStart,
      Throughput t,
      Inside inside,
      double recordsPerSecond,
      long[] latencies,
      Memory memory) {
    long recordBytes = (long) tokens * dIn * Float.BYTES;
    out.printf(
        Locale.ROOT,
        "sae-stream bench e2e  %s, %s (%d CPUs), Java %s; 1-min load average %s at start,"
            + " %s at end (anything above ~1 means other processes shared the CPUs)%n",
        LocalDate.now(ZoneOffset.UTC),
        cpuModel(),
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"),
        loadAtStart,
        loadAverage());
    out.printf(
        Locale.ROOT,
        "  topk d_in=%d d_sae=%d k=%d; %d-token F32 records (%d KiB); %s, ORT intra-op threads"
            + " %d, %d stream thread(s), %d partition(s)%n",
        dIn,
        dSae,
        k,
        tokens,
        recordBytes >> 10,
        provider,
        intraOpThreads,
        streamThreads,
        topicPartitions);
    out.printf(
        Locale.ROOT,
        "  exactly_once_v2, commit.interval.ms=%d; in-JVM KRaft broker and schema registry in"
            + " the same process%n",
        commitIntervalMs);
    out.printf(
        Locale.ROOT,
        "  (a) bare analyze graph : %.1f ms/call, %.0f tokens/s (median of %d calls of %d"
            + " tokens)%n",
        t.bareMedianMs(),
        t.bareTokensPerSecond(tokens),
        t.bareCalls(),
        tokens);
    out.printf(
        Locale.ROOT,
        "  (b) end to end         : %.0f tokens/s (median of rounds %s; %d records each,"
            + " produce -> topology -> read_committed)%n",
        t.endToEndMedian(),
        format(t.endToEnd()),
        t.recordsPerRound());
    out.printf(
        Locale.ROOT,
        "      ratio (b) / (a)    : %.3f (goal >= 0.8); per round, against that round's own"
            + " bare calls: %s (median %.3f)%n",
        t.endToEndMedian() / t.bareTokensPerSecond(tokens),
        format(t.paired(), "%.3f"),
        median(t.paired()));
    out.printf(
        Locale.ROOT,
        "      in the app         : %.0f tokens/s (median of rounds %s; spacing of the"
            + " FeatureBatch produced_at stamps, i.e. before commit and read)%n",
        median(t.inApp()),
        format(t.inApp()));
    out.printf(
        Locale.ROOT,
        "      stream thread      : ORT call %.1f ms avg (bare median %.1f ms); time processing %.0f%%,"
            + " committing %.0f%% (%.1f ms avg), polling %.0f%% (Kafka Streams metrics, last ~60 s)%n",
        inside.inferenceMs(),
        t.bareMedianMs(),
        inside.processRatio() * 100,
        inside.commitRatio() * 100,
        inside.commitMs(),
        inside.pollRatio() * 100);
    out.printf(
        Locale.ROOT,
        "  (c) latency at %.0f%% of (b): %.2f records/s for %.0f s, %d records: p50 %d ms, p99"
            + " %d ms, max %d ms (send -> committed FeatureBatch read)%n",
        latencyLoad * 100,
        recordsPerSecond,
        latencySeconds,
        latencies.length,
        percentile(latencies, 0.50),
        percentile(latencies, 0.99),
        latencies[latencies.length - 1]);
    out.printf(
        Locale.ROOT,
        "  (d) memory, app idle   : heap used after GC %d MiB (max heap %d MiB); RSS %d MiB,"
            + " peak RSS %d MiB (whole process: broker, registry, app, bench clients)%n",
        memory.heapUsedAfterGc() >> 20,
        memory.maxHeap() >> 20,
        memory.rssKib() >> 10,
        memory.peakRssKib() >> 10);
    out.flush();
  }

  /** The throughput rounds: bare call times and, per round, tokens/s and paired ratios. */
  private static final class Throughput {

    private final double[] bareMs;
    private final double[] endToEnd;
    private final double[] inApp;
    private final double[] paired;
    private final int recordsPerRound;

    Throughput(
        double[] bareMs, double[] endToEnd, double[] inApp, double[] paired, int recordsPerRound) {
      this.bareMs = bareMs.clone();
      this.endToEnd = endToEnd.clone();
      this.inApp = inApp.clone();
      this.paired = paired.clone();
      this.recordsPerRound = recordsPerRound;
    }

    int bareCalls() {
      return bareMs.length;
    }

    double bareMedianMs() {
      return median(bareMs);
    }

    double bareTokensPerSecond(int tokens) {
      return tokens / bareMedianMs() * 1e3;
    }

    double[] endToEnd() {
      return endToEnd.clone();
    }

    double endToEndMedian() {
      return median(endToEnd);
    }

    double[] inApp() {
      return inApp.clone();
    }

    double[] paired() {
      return paired.clone();
    }

    int recordsPerRound() {
      return recordsPerRound;
    }
  }

  /**
   * Where the stream threads spend their time, from the app's metrics: its own inference sensor and
   * Kafka Streams' thread ratios (rolling windows; averaged over threads and tasks).
   */
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

  private static void createTopics(
      EmbeddedKafkaBroker broker, TopicNames topics, int partitions, int maxMessageBytes) {
    Map<String, String> large =
        Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(maxMessageBytes));
    broker.createTopics(
        List.of(
            new NewTopic(topics.activations(), partitions, (short) 1).configs(large),
            new NewTopic(topics.features(), partitions, (short) 1),
            new NewTopic(topics.reconstruction(), partitions, (short) 1),
            new NewTopic(topics.deadLetter(), 1, (short) 1).configs(large)));
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

  private static void awaitRunning(StreamsApp app) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT_LIMIT.toNanos();
    while (app.kafkaStreams().state() != KafkaStreams.State.RUNNING) {
      if (app.failed() || System.nanoTime() > deadline) {
        throw new IllegalStateException("the app did not reach RUNNING: " + app.kafkaStreams());
      }
      if (app.awaitStop(Duration.ofMillis(50))) {
        throw new IllegalStateException("the app stopped while starting");
      }
    }
  }

  /** Throughputs of one drained backlog. */
  private record Drain(double endToEndTokensPerSecond, double inAppTokensPerSecond) {}

  /**
   * Produces {@code count} records at once and measures how fast the app drains them: end to end,
   * from the first committed FeatureBatch read after the last acknowledgement to the last one; in
   * the app, from the spacing of the {@code produced_at} of the FeatureBatch records it made after
   * that acknowledgement.
   */
  private Drain drainBacklog(
      StreamsApp app,
      KafkaProducer<byte[], byte[]> producer,
      FeatureReader reader,
      Records records,
      int count)
      throws Exception {
    long target = reader.count() + count;
    Acknowledged acknowledged = produceAndAwait(app, producer, reader, records, count);
    FeatureReader.Arrival first = reader.firstArrivalAfter(acknowledged.nanos());
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
    while (firstAfter < madeAt.length && madeAt[firstAfter] < acknowledged.wallMs()) {
      firstAfter++;
    }
    int made = madeAt.length - firstAfter;
    double inApp =
        made < 2
            ? Double.NaN
            : (made - 1)
                * (double) tokens
                / ((madeAt[madeAt.length - 1] - madeAt[firstAfter]) / 1e3);
    return new Drain(drained * (double) tokens / ((last.nanos() - first.nanos()) / 1e9), inApp);
  }

  /** When the last record of a backlog was acknowledged, as System.nanoTime() and wall clock. */
  private record Acknowledged(long nanos, long wallMs) {}

  /**
   * Produces {@code count} backlog records, waits for their FeatureBatch records and returns when
   * the last acknowledgement came.
   */
  private static Acknowledged produceAndAwait(
      StreamsApp app,
      KafkaProducer<byte[], byte[]> producer,
      FeatureReader reader,
      Records records,
      int count)
      throws Exception {
    long target = reader.count() + count;
    List<Future<?>> sent = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      sent.add(producer.send(records.pooled(i)));
    }
    for (Future<?> f : sent) {
      f.get();
    }
    Acknowledged acknowledged = new Acknowledged(System.nanoTime(), System.currentTimeMillis());
    reader.awaitCount(target, app, () -> null);
    return acknowledged;
  }

  /** Sends records at {@code recordsPerSecond} and returns their latencies in ms, sorted. */
  private long[] pacedLatencies(
      StreamsApp app,
      KafkaProducer<byte[], byte[]> producer,
      FeatureReader reader,
      Records records,
      double recordsPerSecond)
      throws Exception {
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
                    records.fresh(i),
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
      reader.awaitCount(first + count, app, failure::get);
    } finally {
      pacing.cancel(false);
      pacer.shutdownNow();
    }
    long[] latencies = reader.latenciesMs(first, first + count);
    Arrays.sort(latencies);
    return latencies;
  }

  private double timeBare(SaeSession session, FloatBuffer x) {
    long t0 = System.nanoTime();
    long l0 = session.analyze(x, tokens, analysis -> analysis.l0(0));
    double ms = (System.nanoTime() - t0) / 1e6;
    if (l0 <= 0 || l0 > k) {
      throw new IllegalStateException("bare analyze graph gave l0 " + l0 + " for token 0");
    }
    return ms;
  }

  private float[] activations(int seed) {
    float[] values = new float[tokens * dIn];
    new SyntheticTensor(100 + seed, 1f, tokens, dIn).readFloats(0, values, 0, values.length);
    return values;
  }

  private static FloatBuffer directFloats(float[] values) {
    FloatBuffer buffer =
        ByteBuffer.allocateDirect(values.length * Float.BYTES)
            .order(ByteOrder.nativeOrder())
            .asFloatBuffer();
    buffer.put(values).flip();
    return buffer;
  }

  /** ActivationBatch records of this bench's shape, encoded for the activations topic. */
  private final class Records {

    private final SpecificAvroSerializer<ActivationBatch> serializer;
    private final String topic;
    private final List<ByteBuffer> blocks = new ArrayList<>();
    private final List<byte[]> pool = new ArrayList<>();

    Records(SchemaRegistryClient registryClient, String topic) {
      this.serializer = new SpecificAvroSerializer<>(registryClient, AvroSerdeConfig.forValues());
      this.topic = topic;
      for (int i = 0; i < DISTINCT_RECORDS; i++) {
        float[] values = activations(i);
        ByteBuffer data =
            ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        data.asFloatBuffer().put(values);
        blocks.add(data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN));
        pool.add(encode(i, Instant.now()));
      }
    }

    /** Record {@code i} of a backlog: one of a few pre-encoded blocks. */
    ProducerRecord<byte[], byte[]> pooled(int i) {
      int b = i % DISTINCT_RECORDS;
      return new ProducerRecord<>(topic, key(b), pool.get(b));
    }

    /** Record {@code i}, encoded now with produced_at = record timestamp = now. */
    ProducerRecord<byte[], byte[]> fresh(int i) {
      Instant now = Instant.ofEpochMilli(System.currentTimeMillis());
      int b = i % DISTINCT_RECORDS;
      return new ProducerRecord<>(topic, null, now.toEpochMilli(), key(b), encode(b, now));
    }

    private byte[] encode(int block, Instant producedAt) {
      ActivationBatch batch =
          ActivationBatch.newBuilder()
              .setModelId(MODEL)
              .setHookName(HOOK)
              .setSequenceId(sequenceId(block))
              .setStartPosition(0)
              .setNTokens(tokens)
              .setDIn(dIn)
              .setDtype(Dtype.F32)
              .setData(blocks.get(block).duplicate())
              .setProducedAt(producedAt)
              .setAttributes(Map.of())
              .build();
      byte[] bytes = serializer.serialize(topic, batch);
      if (bytes == null) {
        throw new IllegalStateException("the serializer returned null for a record");
      }
      return bytes;
    }

    private byte[] key(int block) {
      return sequenceId(block).getBytes(StandardCharsets.UTF_8);
    }

    private String sequenceId(int block) {
      return "bench-seq-" + block;
    }
  }

  /**
   * A read_committed consumer of the features topic on its own thread, recording when each
   * FeatureBatch became readable. Checks every batch's token count. Closed by its owner.
   */
  private static final class FeatureReader implements AutoCloseable {

    /** {@code count} FeatureBatch records had been read at {@code nanos} (System.nanoTime()). */
    record Arrival(long nanos, long count) {}

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final SpecificAvroDeserializer<FeatureBatch> deserializer;
    private final String topic;
    private final int tokens;
    private final Thread thread;
    private final List<Arrival> arrivals = new ArrayList<>();
    private long[] latenciesMs = new long[1024];
    private long[] producedAtMs = new long[1024];
    private long count;
    private @Nullable RuntimeException failure;
    private volatile boolean closed;

    private FeatureReader(
        String bootstrap, String topic, SchemaRegistryClient registryClient, int tokens) {
      Properties props = new Properties();
      props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
      this.consumer =
          new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
      this.deserializer = new SpecificAvroDeserializer<>(registryClient, FeatureBatch.class);
      this.topic = topic;
      this.tokens = tokens;
      this.thread = new Thread(this::readLoop, "bench-e2e-feature-reader");
      this.thread.setDaemon(true);
    }

    static FeatureReader start(
        String bootstrap, String topic, SchemaRegistryClient registryClient, int tokens) {
      FeatureReader reader = new FeatureReader(bootstrap, topic, registryClient, tokens);
      List<TopicPartition> partitions =
          reader.consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      reader.consumer.assign(partitions);
      reader.consumer.seekToBeginning(partitions);
      reader.thread.start();
      return reader;
    }

    private void readLoop() {
      try {
        while (!closed) {
          ConsumerRecords<byte[], byte[]> polled = consumer.poll(Duration.ofMillis(100));
          if (polled.isEmpty()) {
            continue;
          }
          long nanos = System.nanoTime();
          long wallMs = System.currentTimeMillis();
          List<long[]> read = new ArrayList<>();
          for (ConsumerRecord<byte[], byte[]> record : polled) {
            FeatureBatch batch = deserializer.deserialize(topic, record.value());
            if (batch == null || batch.getNTokens() != tokens) {
              throw new IllegalStateException(
                  "unexpected FeatureBatch at offset " + record.offset() + ": " + batch);
            }
            read.add(
                new long[] {wallMs - record.timestamp(), batch.getProducedAt().toEpochMilli()});
          }
          synchronized (this) {
            for (long[] r : read) {
              if (count == latenciesMs.length) {
                latenciesMs = Arrays.copyOf(latenciesMs, latenciesMs.length * 2);
                producedAtMs = Arrays.copyOf(producedAtMs, producedAtMs.length * 2);
              }
              latenciesMs[(int) count] = r[0];
              producedAtMs[(int) count] = r[1];
              count++;
            }
            arrivals.add(new Arrival(nanos, count));
            notifyAll();
          }
        }
      } catch (WakeupException e) {
        if (!closed) {
          fail(new IllegalStateException("feature reader woken up unexpectedly", e));
        }
      } catch (RuntimeException e) {
        fail(e);
      } finally {
        consumer.close();
      }
    }

    private synchronized void fail(RuntimeException e) {
      failure = e;
      notifyAll();
    }

    synchronized long count() {
      return count;
    }

    /**
     * Waits until {@code target} records were read; fails if the app, the reader or the producing
     * side ({@code producing} returns its failure, or null) fails, or a record is dead-lettered.
     */
    synchronized void awaitCount(
        long target, StreamsApp app, Supplier<@Nullable Exception> producing)
        throws InterruptedException {
      long deadline = System.nanoTime() + WAIT_LIMIT.toNanos();
      while (count < target) {
        RuntimeException f = failure;
        if (f != null) {
          throw new IllegalStateException("the feature reader failed", f);
        }
        Exception p = producing.get();
        if (p != null) {
          throw new IllegalStateException("producing activation records failed", p);
        }
        if (app.failed()) {
          throw new IllegalStateException("the streams app failed");
        }
        long deadLetters = DeadLetterMetrics.total(app.kafkaStreams().metrics());
        if (deadLetters > 0) {
          throw new IllegalStateException(
              deadLetters + " activation record(s) went to the dead-letter topic");
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new IllegalStateException(
              "read "
                  + count
                  + " FeatureBatch records, expected "
                  + target
                  + " within "
                  + WAIT_LIMIT);
        }
        wait(Math.min(TimeUnit.NANOSECONDS.toMillis(left) + 1, 200));
      }
    }

    /** The first poll that returned records at or after {@code nanos}. */
    synchronized Arrival firstArrivalAfter(long nanos) {
      return arrivals.stream()
          .filter(a -> a.nanos() >= nanos)
          .findFirst()
          .orElseThrow(() -> new IllegalStateException("no FeatureBatch read after the backlog"));
    }

    /** The poll that brought the count to {@code target} or beyond. */
    synchronized Arrival arrivalReaching(long target) {
      return arrivals.stream()
          .filter(a -> a.count() >= target)
          .findFirst()
          .orElseThrow(() -> new IllegalStateException("count " + target + " not reached"));
    }

    /** FeatureBatch.produced_at of records {@code from} (inclusive) to {@code to} (exclusive). */
    synchronized long[] producedAtMs(long from, long to) {
      return Arrays.copyOfRange(producedAtMs, (int) from, (int) to);
    }

    /** Latencies of records {@code from} (inclusive) to {@code to} (exclusive), in read order. */
    synchronized long[] latenciesMs(long from, long to) {
      return Arrays.copyOfRange(latenciesMs, (int) from, (int) to);
    }

    @Override
    public void close() {
      closed = true;
      consumer.wakeup();
      try {
        thread.join(Duration.ofSeconds(10).toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while stopping the feature reader", e);
      }
    }
  }

  /** Memory figures of this process. */
  private record Memory(long heapUsedAfterGc, long maxHeap, long rssKib, long peakRssKib) {

    static Memory measure() {
      MemoryMXBean bean = ManagementFactory.getMemoryMXBean();
      bean.gc();
      bean.gc();
      return new Memory(
          bean.getHeapMemoryUsage().getUsed(),
          bean.getHeapMemoryUsage().getMax(),
          procStatusKib("VmRSS"),
          procStatusKib("VmHWM"));
    }

    /** A {@code kB} line of /proc/self/status, or -1 where there is none (not Linux). */
    private static long procStatusKib(String field) {
      Path status = Path.of("/proc/self/status");
      if (!Files.isReadable(status)) {
        return -1;
      }
      try (Stream<String> lines = Files.lines(status)) {
        return lines
            .filter(l -> l.startsWith(field + ":"))
            .map(l -> l.substring(field.length() + 1).trim())
            .map(v -> v.endsWith(" kB") ? v.substring(0, v.length() - 3) : v)
            .mapToLong(Long::parseLong)
            .findFirst()
            .orElse(-1);
      } catch (IOException e) {
        throw new UncheckedIOException("reading " + status, e);
      }
    }
  }

  /** The 1-minute load average, or "n/a" off Linux. */
  private static String loadAverage() {
    Path loadavg = Path.of("/proc/loadavg");
    if (!Files.isReadable(loadavg)) {
      return "n/a";
    }
    try {
      String text = Files.readString(loadavg, StandardCharsets.US_ASCII).trim();
      int space = text.indexOf(' ');
      return space < 0 ? text : text.substring(0, space);
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + loadavg, e);
    }
  }

  private static String cpuModel() {
    Path cpuinfo = Path.of("/proc/cpuinfo");
    if (!Files.isReadable(cpuinfo)) {
      return System.getProperty("os.arch");
    }
    try (Stream<String> lines = Files.lines(cpuinfo)) {
      return lines
          .filter(l -> l.startsWith("model name"))
          .map(l -> l.substring(l.indexOf(':') + 1).trim())
          .findFirst()
          .orElse(System.getProperty("os.arch"));
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + cpuinfo, e);
    }
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
