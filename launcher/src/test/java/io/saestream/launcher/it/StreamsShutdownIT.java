package io.saestream.launcher.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.saestream.embedded.kafka.EmbeddedKafkaBroker;
import io.saestream.embedded.registry.EmbeddedSchemaRegistry;
import io.saestream.launcher.SaeStreamJvm;
import io.saestream.launcher.TopKShape;
import io.saestream.sae.checkpoint.FloatTensor;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SyntheticTensor;
import io.saestream.schema.registry.RestSchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryClientConfig;
import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.Dtype;
import io.saestream.schema.v1.FeatureBatch;
import io.saestream.streams.StreamsApp;
import io.saestream.streams.config.StreamsAppConfig;
import io.saestream.streams.errors.DeadLetterHeaders;
import io.saestream.streams.errors.DeadLetterReason;
import io.saestream.synthetic.produce.ActivationBatchTemplate;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.header.Header;
import org.assertj.core.api.SoftAssertions;
import org.awaitility.core.ConditionTimeoutException;
import org.awaitility.core.TerminalFailureException;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM, as a process supervisor sends it, to {@code sae-stream streams --config} in its own JVM
 * while it is busy: a paced producer keeps batches coming, committed FeatureBatch output is there,
 * and monitoring (alert rules, rules-file watcher) and the HTTP API run. The app must stop on the
 * signal (its log says so), within its close timeout, with exit status 0 and no native crash (an
 * earlier version closed from a JVM shutdown hook, racing ONNX Runtime's own hook that releases its
 * native environment). Then nothing is lost or doubled: once the app is started again (in the
 * test's JVM) on the same configuration file, every batch the producer had acknowledged is exactly
 * one committed FeatureBatch (read_committed) or, for the poisoned ones, exactly one dead letter.
 */
class StreamsShutdownIT {

  private static final String MODEL = "shutdown-model";
  private static final String HOOK = "blocks.2.hook_resid_pre";
  private static final String SAE = "shutdown-topk";
  private static final TopKShape SHAPE = new TopKShape(64, 256, 8);
  private static final int TOKENS = 16;

  /** Records per sequence: consecutive positions, so (sequence_id, start_position) is the id. */
  private static final int RECORDS_PER_SEQUENCE = 4;

  private static final int PARTITIONS = 2;

  /** Every tenth batch holds a NaN: a dead letter, so that both outcomes are accounted for. */
  private static final int POISON_EVERY = 10;

  /** Pacing of the producer: about 40 batches a second, before, during and after the signal. */
  private static final long PRODUCE_GAP_MS = 25;

  /** Committed outputs to see before the signal: the stream thread is past its first commits. */
  private static final int OUTPUTS_BEFORE_SIGNAL = 20;

  /** {@code streams.shutdown-timeout}: how long the app's close waits for the stream threads. */
  private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);

  /**
   * From SIGTERM to exit: the app's close timeout for the stream threads, plus closing the SAE
   * sessions, the engine and the JVM's exit (about a second here), with margin for a loaded
   * machine. A stop that waits the whole timeout still fails, on the log assertion below.
   */
  private static final Duration EXIT_BOUND = SHUTDOWN_TIMEOUT.plusSeconds(5);

  /** Child JVM start, ONNX export and smoke test, group join and first commits, on 2 busy cores. */
  private static final Duration STARTUP = Duration.ofSeconds(90);

  private static final Duration DEADLINE = Duration.ofSeconds(30);

  private static final Pattern HTTP_PORT = Pattern.compile("HTTP API listening on \\S*:(\\d+)");

  @TempDir Path dir;

  @Test
  @Timeout(240)
  void sigtermStopsTheStreamsAppCleanlyWithinItsCloseTimeoutAndLosesNothing() throws Exception {
    long t0 = System.nanoTime();
    Path config = dir.resolve("streams.yaml");
    Path log = dir.resolve("streams.log");
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.withDefaults().start();
        EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.start()) {
      createTopics(broker);
      SchemaRegistryClient registryClient =
          new RestSchemaRegistryClient(SchemaRegistryClientConfig.of(List.of(registry.url())));
      topK().write(dir.resolve("sae"));
      Files.writeString(dir.resolve("rules.yaml"), rulesYaml(), StandardCharsets.UTF_8);
      Files.writeString(config, streamsYaml(broker, registry), StandardCharsets.UTF_8);

      ProcessBuilder command =
          SaeStreamJvm.command(dir, List.of("streams", "--config", config.toString()))
              .redirectErrorStream(true)
              .redirectOutput(log.toFile());
      // Only the file configures the app; the log level must show the INFO line asserted below.
      command.environment().keySet().removeIf(name -> name.startsWith("SAE_STREAM_"));
      command.environment().put("SAE_STREAM_LOG_LEVEL", "INFO");

      List<Sent> sent;
      try (PacedProducer producer = new PacedProducer(broker.bootstrapServers(), registryClient);
          CommittedOutputs outputs =
              new CommittedOutputs(broker.bootstrapServers(), registryClient)) {
        producer.start();
        Process streams = command.start();
        try {
          double startup = awaitBusy(streams, log, outputs);
          int committedBeforeSignal = outputs.features().size();

          int acknowledgedBeforeSignal = producer.acknowledgedCount();
          long signalled = System.nanoTime();
          // SIGTERM on Linux; the output goes to a file, so nothing is lost when our pipe closes.
          streams.destroy();
          boolean exited = streams.waitFor(EXIT_BOUND.toMillis(), TimeUnit.MILLISECONDS);
          double stop = (System.nanoTime() - signalled) / 1e9;
          sent = producer.stop();
          String out = Files.readString(log);
          System.out.printf(
              "streams app busy %.1f s after start (%d outputs committed), stopped %.1f s after"
                  + " SIGTERM; batches acknowledged: %d before the signal, %d in all%n%s%n",
              startup,
              committedBeforeSignal,
              stop,
              acknowledgedBeforeSignal,
              sent.size(),
              out.substring(out.lastIndexOf('\n', Math.max(0, out.indexOf("SIGTERM"))) + 1));

          SoftAssertions softly = new SoftAssertions();
          softly
              .assertThat(exited)
              .as("exited within %s of SIGTERM; log:%n%s", EXIT_BOUND, out)
              .isTrue();
          if (exited) {
            softly.assertThat(streams.exitValue()).as("exit status").isZero();
          }
          softly
              .assertThat(SaeStreamJvm.crashEvidence(dir, out))
              .as("native crash; log:%n%s", out)
              .isEmpty();
          softly
              .assertThat(out)
              .as("the log of a stop on the signal")
              .contains("SIGTERM: stopping")
              .contains("Stopped sae-stream")
              .doesNotContain("did not stop within");
          softly.assertAll();
        } finally {
          if (streams.isAlive()) {
            streams.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
          }
        }

        // Started again on the same file: it processes what the first run left unprocessed.
        long restarted = System.nanoTime();
        try (StreamsApp again = StreamsApp.start(StreamsAppConfig.load(config, Map.of()))) {
          awaitEveryBatchAccountedFor(outputs, sent);
          assertThat(again.failed()).isFalse();
        }
        System.out.printf(
            "restart accounted for every batch in %.1f s; test %.1f s%n",
            (System.nanoTime() - restarted) / 1e9, (System.nanoTime() - t0) / 1e9);
        assertExactlyOneOutcomePerBatch(outputs, sent);
      }
    }
  }

  /**
   * Waits for the HTTP API to answer ready and for committed output; returns the seconds since the
   * child started.
   */
  private static double awaitBusy(Process streams, Path log, CommittedOutputs outputs)
      throws Exception {
    long started = System.nanoTime();
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    try {
      await("the streams app ready and committing output")
          .atMost(STARTUP)
          .pollInterval(Duration.ofMillis(200))
          .failFast("the streams app exited", () -> !streams.isAlive())
          .until(
              () -> {
                outputs.poll();
                return outputs.features().size() >= OUTPUTS_BEFORE_SIGNAL && ready(http, log);
              });
    } catch (ConditionTimeoutException | TerminalFailureException e) {
      throw new AssertionError(e.getMessage() + "; log:\n" + SaeStreamJvm.tail(log), e);
    }
    return (System.nanoTime() - started) / 1e9;
  }

  /** Whether the app's {@code /ready} answers 200: Kafka Streams runs and the SAE is loaded. */
  private static boolean ready(HttpClient http, Path log) throws Exception {
    Matcher port = HTTP_PORT.matcher(Files.readString(log));
    if (!port.find()) {
      return false;
    }
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port.group(1) + "/ready"))
            .timeout(Duration.ofSeconds(2))
            .build();
    return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
  }

  private static void awaitEveryBatchAccountedFor(CommittedOutputs outputs, List<Sent> sent) {
    Set<String> expected = sent.stream().map(Sent::source).collect(Collectors.toUnmodifiableSet());
    await("a FeatureBatch or dead letter for each of the " + sent.size() + " batches")
        .atMost(DEADLINE)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              outputs.poll();
              Set<String> seen = new HashSet<>(outputs.featureSources());
              seen.addAll(outputs.deadLetterSources().keySet());
              return seen.containsAll(expected);
            });
    // A duplicate committed after the last expected outcome would be missed: read on briefly.
    for (int i = 0; i < 5; i++) {
      outputs.poll();
    }
  }

  private static void assertExactlyOneOutcomePerBatch(CommittedOutputs outputs, List<Sent> sent) {
    Map<String, Sent> bySource =
        sent.stream().collect(Collectors.toMap(Sent::source, Function.identity()));
    List<FeatureBatch> features = outputs.features();
    Map<String, Long> perPosition =
        features.stream()
            .collect(
                Collectors.groupingBy(
                    f -> f.getSequenceId() + "@" + f.getStartPosition(), Collectors.counting()));
    assertThat(perPosition)
        .as("committed FeatureBatches per (sequence_id, start_position)")
        .allSatisfy((position, count) -> assertThat(count).as(position).isEqualTo(1L));
    assertThat(outputs.featureSources())
        .as("sources of the FeatureBatches")
        .isSubsetOf(bySource.keySet());
    for (FeatureBatch f : features) {
      Sent input =
          Objects.requireNonNull(bySource.get(f.getSourcePartition() + "@" + f.getSourceOffset()));
      assertThat(input.poison()).as("%s is poisoned", f.getSequenceId()).isFalse();
      assertThat(f.getSequenceId() + "@" + f.getStartPosition()).isEqualTo(input.position());
      assertThat(f.getSaeId()).isEqualTo(SAE);
      assertThat(f.getRowOffsets()).hasSize(TOKENS + 1);
    }
    Map<String, String> deadLetters = outputs.deadLetterSources();
    assertThat(outputs.deadLetterCount())
        .as("dead letters, each once")
        .isEqualTo(deadLetters.size());
    long poisoned = sent.stream().filter(Sent::poison).count();
    assertThat(poisoned).isPositive();
    assertThat(features).hasSize(sent.size() - (int) poisoned);
    assertThat(deadLetters).hasSize((int) poisoned);
    assertThat(deadLetters.keySet())
        .as("sources of the dead letters")
        .isSubsetOf(bySource.keySet());
    deadLetters.forEach(
        (source, reason) -> {
          Sent input = Objects.requireNonNull(bySource.get(source));
          assertThat(input.poison()).as("%s is poisoned", source).isTrue();
          assertThat(reason).isEqualTo(DeadLetterReason.NON_FINITE_VALUES.name());
        });
  }

  private static void createTopics(EmbeddedKafkaBroker broker) {
    broker.createTopics(
        List.of(
            new NewTopic("shutdown.activations", PARTITIONS, (short) 1),
            new NewTopic("shutdown.features", PARTITIONS, (short) 1),
            new NewTopic("shutdown.reconstruction", PARTITIONS, (short) 1),
            new NewTopic("shutdown.dlq", 1, (short) 1),
            new NewTopic("shutdown.alerts", 1, (short) 1),
            new NewTopic("shutdown.rules", 1, (short) 1)
                .configs(
                    Map.of(
                        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT))));
  }

  private static String streamsYaml(EmbeddedKafkaBroker broker, EmbeddedSchemaRegistry registry) {
    return """
        kafka:
          bootstrap-servers: %s
          application-id: shutdown-it
        schema-registry:
          urls: %s
        topics:
          activations: shutdown.activations
          features: shutdown.features
          reconstruction: shutdown.reconstruction
          dead-letter: shutdown.dlq
        streams:
          threads: 1
          state-dir: state
          commit-interval: 100ms
          shutdown-timeout: %ds
        inference:
          device: cpu
          intra-op-threads: 1
        monitoring:
          enabled: true
          alerts-topic: shutdown.alerts
          rules-topic: shutdown.rules
          aggregates-topic: shutdown.aggregates
          rules-file: rules.yaml
          rules-poll-interval: 500ms
          stats-window: 5s
          window-grace: 1s
        http:
          enabled: true
          bind: 127.0.0.1
          port: 0
        deployments:
          - sae-id: %s
            path: sae
            model-id: %s
            hook-name: %s
        """
        .formatted(
            broker.bootstrapServers(),
            registry.url(),
            SHUTDOWN_TIMEOUT.toSeconds(),
            SAE,
            MODEL,
            HOOK);
  }

  /** A rule on the served SAE: alert evaluation runs, and the rules-file watcher with it. */
  private static String rulesYaml() {
    return """
        rules:
          - id: strong-latent
            type: latent-threshold
            sae-id: %s
            latent: 0
            min-activation: 0.5
            window: 5s
        """
        .formatted(SAE);
  }

  /** A TopK SAE with synthetic weights (decoder norms not 1, so rescaling does its work). */
  private static SaeCheckpoint topK() {
    int dIn = SHAPE.dIn();
    int dSae = SHAPE.dSae();
    return SHAPE.checkpoint(
        new SyntheticTensor(2, (float) (1 / Math.sqrt(dIn)), dIn, dSae),
        new SyntheticTensor(4, 0.01f, dSae),
        new SyntheticTensor(1, 0.05f, dSae, dIn),
        FloatTensor.of(new float[dIn], dIn));
  }

  /** A batch the producer got an acknowledgement for, and where it landed. */
  private record Sent(int partition, long offset, String position, boolean poison) {
    String source() {
      return partition + "@" + offset;
    }
  }

  /**
   * Sends ActivationBatch records on its own thread, {@link #PRODUCE_GAP_MS} apart, each
   * acknowledged ({@code acks=all}) before the next, until stopped. Start and stop from one thread.
   */
  private static final class PacedProducer implements AutoCloseable {
    private static final String TOPIC = "shutdown.activations";
    private static final ActivationBatchTemplate BATCHES =
        new ActivationBatchTemplate(MODEL, HOOK, Dtype.F32, Map.of());

    private final AcknowledgedBatchProducer producer;
    private final ExecutorService thread = Executors.newSingleThreadExecutor();
    private final List<Sent> acknowledged = new ArrayList<>();
    private volatile boolean stopping;
    private @Nullable Future<?> running;

    PacedProducer(String bootstrap, SchemaRegistryClient registry) {
      this.producer = new AcknowledgedBatchProducer(bootstrap, registry);
    }

    void start() {
      running =
          thread.submit(
              () -> {
                for (int i = 0; !stopping; i++) {
                  send(i);
                  // Pacing, not waiting for a condition: a steady trickle across the signal.
                  Thread.sleep(PRODUCE_GAP_MS);
                }
                return null;
              });
    }

    /** Batches acknowledged so far. */
    int acknowledgedCount() {
      synchronized (acknowledged) {
        return acknowledged.size();
      }
    }

    /** Stops producing; returns every batch acknowledged, in order. */
    List<Sent> stop() throws Exception {
      stopping = true;
      Future<?> r = running;
      if (r != null) {
        r.get(30, TimeUnit.SECONDS);
      }
      synchronized (acknowledged) {
        return List.copyOf(acknowledged);
      }
    }

    private void send(int i) throws Exception {
      ActivationBatch batch = batch(i);
      RecordMetadata m = producer.send(TOPIC, batch);
      synchronized (acknowledged) {
        acknowledged.add(
            new Sent(
                m.partition(),
                m.offset(),
                batch.getSequenceId() + "@" + batch.getStartPosition(),
                poisoned(i)));
      }
    }

    private static boolean poisoned(int i) {
      return i % POISON_EVERY == POISON_EVERY - 1;
    }

    private static ActivationBatch batch(int i) {
      SplittableRandom rng = new SplittableRandom(i);
      float[] data = new float[TOKENS * SHAPE.dIn()];
      for (int v = 0; v < data.length; v++) {
        data[v] = (float) (rng.nextDouble() * 2 - 1);
      }
      if (poisoned(i)) {
        data[i % data.length] = Float.NaN;
      }
      return BATCHES.build(
          "seq-" + i / RECORDS_PER_SEQUENCE,
          (i % RECORDS_PER_SEQUENCE) * TOKENS,
          data,
          TOKENS,
          SHAPE.dIn(),
          null,
          null,
          Instant.now());
    }

    @Override
    public void close() {
      stopping = true;
      thread.shutdownNow();
      producer.close();
    }
  }

  /**
   * What the app committed: FeatureBatch records and dead letters, read from the beginning with
   * {@code read_committed}. Used by the test thread only.
   */
  private static final class CommittedOutputs implements AutoCloseable {
    private final KafkaConsumer<String, FeatureBatch> features;
    private final KafkaConsumer<byte[], byte[]> deadLetters;
    private final List<FeatureBatch> featureBatches = new ArrayList<>();
    private final Map<String, String> deadLetterReasons = new HashMap<>();
    private int deadLetterCount;

    CommittedOutputs(String bootstrap, SchemaRegistryClient registry) {
      this.features =
          ReadCommittedConsumers.featureBatches(
              bootstrap, registry, "shutdown.features", PARTITIONS);
      this.deadLetters = ReadCommittedConsumers.rawRecords(bootstrap, "shutdown.dlq", 1);
    }

    void poll() {
      for (ConsumerRecord<String, FeatureBatch> r : features.poll(Duration.ofMillis(100))) {
        featureBatches.add(r.value());
      }
      for (ConsumerRecord<byte[], byte[]> r : deadLetters.poll(Duration.ofMillis(100))) {
        deadLetterCount++;
        deadLetterReasons.put(
            header(r, DeadLetterHeaders.SOURCE_PARTITION)
                + "@"
                + header(r, DeadLetterHeaders.SOURCE_OFFSET),
            header(r, DeadLetterHeaders.REASON));
      }
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
      Header h = r.headers().lastHeader(name);
      if (h == null) {
        throw new AssertionError("a dead letter without the header " + name);
      }
      return new String(h.value(), StandardCharsets.UTF_8);
    }

    List<FeatureBatch> features() {
      return List.copyOf(featureBatches);
    }

    Set<String> featureSources() {
      return featureBatches.stream()
          .map(f -> f.getSourcePartition() + "@" + f.getSourceOffset())
          .collect(Collectors.toUnmodifiableSet());
    }

    /** Source {@code partition@offset} of each dead letter, with its reason. */
    Map<String, String> deadLetterSources() {
      return Map.copyOf(deadLetterReasons);
    }

    int deadLetterCount() {
      return deadLetterCount;
    }

    @Override
    public void close() {
      features.close();
      deadLetters.close();
    }
  }
}
