package io.saestream.launcher.bench;

import io.saestream.embedded.kafka.EmbeddedKafkaBroker;
import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.streams.StreamsApp;
import io.saestream.streams.config.StreamsAppConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.jspecify.annotations.Nullable;

/**
 * One streams-app instance under benchmark, configured the way a user configures it: a YAML file
 * read by {@link StreamsAppConfig#load}, so the benchmark follows the public configuration rather
 * than the records behind it. Each instance has its own application id, state directory and topics,
 * so several can run side by side on one broker and be fed in turn; with monitoring, the
 * configuration enables it and names a rules file, as a user would.
 *
 * <p>Owns the app, a read_committed reader of its features topic and an admin client; {@link
 * #close()} stops all three. Used by the benchmark's main thread.
 */
final class BenchApp implements AutoCloseable {

  /**
   * What differs between instances.
   *
   * @param name short name, part of the application id and topic names
   * @param rulesFile the rules file when monitoring is on, else null
   * @param commitInterval {@code streams.commit-interval} instead of the shared one, or null
   * @param kafkaProperties {@code kafka.properties} added to (or replacing) the shared ones
   */
  record Variant(
      String name,
      @Nullable Path rulesFile,
      @Nullable Duration commitInterval,
      Map<String, String> kafkaProperties) {

    Variant {
      kafkaProperties = Map.copyOf(kafkaProperties);
    }

    /** An instance with the shared settings, monitored when {@code rulesFile} is not null. */
    static Variant of(String name, @Nullable Path rulesFile) {
      return new Variant(name, rulesFile, null, Map.of());
    }

    boolean monitored() {
      return rulesFile != null;
    }
  }

  /**
   * What every instance shares.
   *
   * @param saeDir the sae-lens directory of the SAE
   * @param saeId its id
   * @param model model id of the records
   * @param hook hook name of the records
   * @param streamThreads {@code streams.threads}
   * @param intraOpThreads {@code inference.intra-op-threads}
   * @param partitions partitions of each topic
   * @param maxTokensPerRecord {@code streams.max-tokens-per-record}
   * @param maxMessageBytes {@code max.message.bytes} of the activations topic
   * @param commitInterval {@code streams.commit-interval}
   * @param kafkaProperties {@code kafka.properties}, passed to the Kafka clients
   */
  record Shared(
      Path saeDir,
      String saeId,
      String model,
      String hook,
      int streamThreads,
      int intraOpThreads,
      int partitions,
      int maxTokensPerRecord,
      int maxMessageBytes,
      Duration commitInterval,
      Map<String, String> kafkaProperties) {}

  /**
   * How long a drained backlog took to be fully processed: {@code settledNanos} is when the
   * committed offsets of every topic the app reads (its input and its internal repartition topics)
   * first covered their ends.
   */
  record Settled(long settledNanos) {}

  /** The variant's own topics. */
  private record Topics(
      String activations, String features, String reconstruction, String deadLetter) {}

  private final Variant variant;
  private final String applicationId;
  private final String activationsTopic;
  private final StreamsApp app;
  private final FeatureReader reader;
  private final Admin admin;

  private BenchApp(
      Variant variant,
      String applicationId,
      String activationsTopic,
      StreamsApp app,
      FeatureReader reader,
      Admin admin) {
    this.variant = variant;
    this.applicationId = applicationId;
    this.activationsTopic = activationsTopic;
    this.app = app;
    this.reader = reader;
    this.admin = admin;
  }

  /**
   * Creates the variant's topics, writes its configuration file under {@code work}, starts the app
   * and its reader, and waits until the app runs.
   */
  static BenchApp start(
      Variant variant,
      Shared shared,
      EmbeddedKafkaBroker broker,
      String registryUrl,
      SchemaRegistryClient registryClient,
      Path work,
      int tokens,
      Duration waitLimit)
      throws InterruptedException {
    String applicationId = "sae-stream-bench-e2e-" + variant.name();
    String prefix = "bench." + variant.name() + ".";
    Topics topics =
        new Topics(
            prefix + "activations", prefix + "features", prefix + "reconstruction", prefix + "dlq");
    createTopics(broker, shared, variant, topics, prefix);
    Path config = work.resolve(variant.name() + ".yaml");
    writeConfig(
        config,
        variant,
        shared,
        broker.bootstrapServers(),
        registryUrl,
        applicationId,
        topics,
        prefix,
        work.resolve("state-" + variant.name()));
    StreamsAppConfig loaded = StreamsAppConfig.load(config, Map.of());
    Properties adminProps = new Properties();
    adminProps.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    Admin admin = Admin.create(adminProps);
    StreamsApp app = null;
    FeatureReader reader = null;
    try {
      app = StreamsApp.start(loaded, registryClient, Clock.systemUTC());
      reader =
          FeatureReader.start(
              broker.bootstrapServers(), topics.features(), registryClient, tokens, waitLimit);
      BenchApp started =
          new BenchApp(variant, applicationId, topics.activations(), app, reader, admin);
      started.awaitRunning(waitLimit);
      return started;
    } catch (RuntimeException | InterruptedException e) {
      if (reader != null) {
        reader.close();
      }
      if (app != null) {
        app.close();
      }
      admin.close();
      throw e;
    }
  }

  Variant variant() {
    return variant;
  }

  String activationsTopic() {
    return activationsTopic;
  }

  /** The alerts topic, when monitored. */
  String alertsTopic() {
    return "bench." + variant.name() + ".alerts";
  }

  StreamsApp app() {
    return app;
  }

  FeatureReader reader() {
    return reader;
  }

  /**
   * Polls the app's consumer group until its committed offsets cover the end (read_committed) of
   * every partition its stream threads read; returns when that was first seen. Internal topics are
   * written in the app's own transactions and may end with a commit marker that the committed
   * offset stops short of, so they may trail by one.
   */
  Settled awaitSettled(Duration limit) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (true) {
      long checkedAt = System.nanoTime();
      if (settled()) {
        return new Settled(checkedAt);
      }
      if (app.failed()) {
        throw new IllegalStateException("the streams app " + variant.name() + " failed");
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "the app " + variant.name() + " did not commit its inputs' ends within " + limit);
      }
      Thread.sleep(10);
    }
  }

  private boolean settled() throws InterruptedException {
    Set<TopicPartition> inputs =
        app.kafkaStreams().metadataForLocalThreads().stream()
            .flatMap(thread -> thread.activeTasks().stream())
            .flatMap(task -> task.topicPartitions().stream())
            .collect(Collectors.toSet());
    if (inputs.isEmpty()) {
      return false;
    }
    try {
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin
              .listConsumerGroupOffsets(applicationId)
              .partitionsToOffsetAndMetadata()
              .get(10, TimeUnit.SECONDS);
      Map<TopicPartition, OffsetSpec> latest =
          inputs.stream().collect(Collectors.toMap(tp -> tp, tp -> OffsetSpec.latest()));
      Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends =
          admin
              .listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
              .all()
              .get(10, TimeUnit.SECONDS);
      for (TopicPartition tp : inputs) {
        OffsetAndMetadata c = committed.get(tp);
        long done = c == null ? 0 : c.offset();
        ListOffsetsResult.ListOffsetsResultInfo info = ends.get(tp);
        if (info == null) {
          return false;
        }
        long end = info.offset();
        // Topics other than the input are written in the app's own transactions and may end
        // with a commit marker that the committed offset stops short of.
        long slack = tp.topic().equals(activationsTopic) ? 0 : 1;
        if (end - done > slack) {
          return false;
        }
      }
      return true;
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("reading the offsets of " + applicationId + " failed", e);
    }
  }

  private void awaitRunning(Duration limit) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (app.kafkaStreams().state() != KafkaStreams.State.RUNNING) {
      if (app.failed() || System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "the app " + variant.name() + " did not reach RUNNING: " + app.kafkaStreams());
      }
      if (app.awaitStop(Duration.ofMillis(50))) {
        throw new IllegalStateException("the app " + variant.name() + " stopped while starting");
      }
    }
  }

  @Override
  public void close() {
    try {
      reader.close();
    } finally {
      try {
        app.close();
      } finally {
        admin.close();
      }
    }
  }

  private static void createTopics(
      EmbeddedKafkaBroker broker, Shared shared, Variant variant, Topics topics, String prefix) {
    Map<String, String> large =
        Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(shared.maxMessageBytes()));
    int p = shared.partitions();
    List<NewTopic> created = new ArrayList<>();
    created.add(new NewTopic(topics.activations(), p, (short) 1).configs(large));
    created.add(new NewTopic(topics.features(), p, (short) 1));
    created.add(new NewTopic(topics.reconstruction(), p, (short) 1));
    created.add(new NewTopic(topics.deadLetter(), 1, (short) 1).configs(large));
    if (variant.monitored()) {
      created.add(new NewTopic(prefix + "alerts", p, (short) 1)); // = alertsTopic()
      created.add(
          new NewTopic(prefix + "rules", 1, (short) 1)
              .configs(
                  Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)));
      // The app creates its aggregates topic when missing, with the broker's 1 MiB record limit;
      // a batch summary of 256 synthetic tokens measured 1.2 MB (most latents fire somewhere in
      // random activations), so the bench creates it with room, as an operator would have to.
      created.add(
          new NewTopic(prefix + "aggregates", p, (short) 1)
              .configs(
                  Map.of(
                      TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                      Integer.toString(monitoredRecordBytes(shared)))));
    }
    broker.createTopics(created);
  }

  /** The configuration file of the variant, in the documented layout (see ConfigLoader). */
  private static void writeConfig(
      Path file,
      Variant variant,
      Shared shared,
      String bootstrap,
      String registryUrl,
      String applicationId,
      Topics topics,
      String prefix,
      Path stateDir) {
    StringBuilder y = new StringBuilder();
    y.append("kafka:\n");
    y.append("  bootstrap-servers: ").append(quote(bootstrap)).append('\n');
    y.append("  application-id: ").append(quote(applicationId)).append('\n');
    Map<String, String> properties = new TreeMap<>(shared.kafkaProperties());
    if (variant.monitored()) {
      // Room for the batch summaries on the aggregates topic (see createTopics).
      properties.put("producer.max.request.size", Integer.toString(monitoredRecordBytes(shared)));
    }
    properties.putAll(variant.kafkaProperties());
    if (!properties.isEmpty()) {
      y.append("  properties:\n");
      properties.forEach(
          (k, v) -> y.append("    ").append(quote(k)).append(": ").append(quote(v)).append('\n'));
    }
    y.append("schema-registry:\n");
    y.append("  urls: ").append(quote(registryUrl)).append('\n');
    y.append("topics:\n");
    y.append("  activations: ").append(quote(topics.activations())).append('\n');
    y.append("  features: ").append(quote(topics.features())).append('\n');
    y.append("  reconstruction: ").append(quote(topics.reconstruction())).append('\n');
    y.append("  dead-letter: ").append(quote(topics.deadLetter())).append('\n');
    y.append("streams:\n");
    y.append("  threads: ").append(shared.streamThreads()).append('\n');
    y.append("  max-tokens-per-record: ").append(shared.maxTokensPerRecord()).append('\n');
    y.append("  state-dir: ").append(quote(stateDir.toString())).append('\n');
    y.append(
        String.format(
            Locale.ROOT,
            "  commit-interval: %dms%n",
            Objects.requireNonNullElse(variant.commitInterval(), shared.commitInterval())
                .toMillis()));
    y.append("inference:\n");
    y.append("  device: cpu\n");
    y.append("  intra-op-threads: ").append(shared.intraOpThreads()).append('\n');
    Path rules = variant.rulesFile();
    if (rules != null) {
      y.append("monitoring:\n");
      y.append("  enabled: true\n");
      y.append("  alerts-topic: ").append(quote(prefix + "alerts")).append('\n');
      y.append("  rules-topic: ").append(quote(prefix + "rules")).append('\n');
      y.append("  rules-file: ").append(quote(rules.toString())).append('\n');
      y.append("  aggregates-topic: ").append(quote(prefix + "aggregates")).append('\n');
      // The dashboard and API come with monitoring; an ephemeral port keeps runs independent.
      y.append("http:\n");
      y.append("  port: 0\n");
    }
    y.append("deployments:\n");
    y.append("  - sae-id: ").append(quote(shared.saeId())).append('\n');
    y.append("    path: ").append(quote(shared.saeDir().toString())).append('\n');
    y.append("    model-id: ").append(quote(shared.model())).append('\n');
    y.append("    hook-name: ").append(quote(shared.hook())).append('\n');
    try {
      Files.writeString(file, y.toString(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("writing " + file, e);
    }
  }

  /** The record size limit a monitored app's producer and aggregates topic get. */
  private static int monitoredRecordBytes(Shared shared) {
    return Math.max(8 << 20, 4 * shared.maxMessageBytes());
  }

  /** A YAML single-quoted scalar. */
  private static String quote(String value) {
    return "'" + value.replace("'", "''") + "'";
  }
}
