package io.saestream.launcher.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.saestream.embedded.kafka.EmbeddedKafkaBroker;
import io.saestream.embedded.registry.EmbeddedSchemaRegistry;
import io.saestream.launcher.TopKShape;
import io.saestream.schema.checkpoint.CheckpointTopic;
import io.saestream.schema.checkpoint.PublishedCheckpoint;
import io.saestream.schema.registry.RestSchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryClientConfig;
import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.Dtype;
import io.saestream.schema.v1.FeatureBatch;
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
import io.saestream.streams.swap.CheckpointMetrics;
import io.saestream.synthetic.GroundTruthConfig;
import io.saestream.synthetic.GroundTruthModel;
import io.saestream.synthetic.produce.ActivationBatchTemplate;
import io.saestream.trainer.app.TrainerApp;
import io.saestream.trainer.config.TrainerConfigLoader;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loop the product is about, on a real in-JVM KRaft broker and schema registry: the streams app
 * serves an untrained SAE and follows the checkpoints topic while the trainer learns from the same
 * activations topic and publishes versions; activation batches flow throughout. Every version the
 * trainer publishes is verified and swapped in by the running app (no restart, none refused), every
 * input batch yields exactly one FeatureBatch (read_committed; matched by source partition and
 * offset), versions never go back within a partition, the published versions serve traffic while it
 * flows, and batches produced after the last swap carry the last version.
 */
class TrainerSwapIT {

  private static final String MODEL = "swap-model";
  private static final String HOOK = "blocks.3.hook_resid_pre";
  private static final String SAE = "swap-topk";
  private static final TopKShape SHAPE = new TopKShape(16, 64, 4);
  private static final int TOKENS = 32;
  private static final int PARTITIONS = 2;

  /** Batches produced while the trainer runs (~7.7k tokens: ~7 versions at 1024 tokens each). */
  private static final int FLOW_BATCHES = 240;

  /** Batches produced after the last version was swapped in. */
  private static final int TAIL_BATCHES = 20;

  private static final Duration DEADLINE = Duration.ofSeconds(45);

  @TempDir Path tmp;

  @Test
  @Timeout(180)
  void everyPublishedVersionIsSwappedInWhileBatchesFlowExactlyOnce() throws Exception {
    String suffix = Long.toHexString(System.nanoTime());
    TopicNames topics =
        new TopicNames(
            "swap.activations." + suffix,
            "swap.features." + suffix,
            "swap.reconstruction." + suffix,
            "swap.dlq." + suffix);
    String checkpoints = "swap.checkpoints." + suffix;
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.withDefaults().start();
        EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.start()) {
      broker.createTopics(
          List.of(
              new NewTopic(topics.activations(), PARTITIONS, (short) 1),
              new NewTopic(topics.features(), PARTITIONS, (short) 1),
              new NewTopic(topics.reconstruction(), PARTITIONS, (short) 1),
              new NewTopic(topics.deadLetter(), 1, (short) 1),
              CheckpointTopic.newTopic(checkpoints, 1, (short) 1)));
      SchemaRegistryClient registryClient =
          new RestSchemaRegistryClient(SchemaRegistryClientConfig.of(List.of(registry.url())));
      Path initial = tmp.resolve("initial-sae");
      untrainedTopK(initial);

      StreamsAppConfig streamsConfig =
          new StreamsAppConfig(
              new KafkaSettings(broker.bootstrapServers(), "swap-it-" + suffix, Map.of()),
              new SchemaRegistrySettings(List.of(registry.url()), null, true),
              topics,
              new StreamsSettings(
                  1, 256, tmp.resolve("streams-state"), Duration.ofMillis(100), DEADLINE),
              new InferenceSettings(Device.CPU, 0, 1),
              List.of(SaeDeployment.of(SAE, initial).withHook(MODEL, HOOK)),
              CheckpointSettings.following(checkpoints),
              MonitoringSettings.defaults(),
              HttpSettings.defaults());
      StreamsApp app = StreamsApp.start(streamsConfig, registryClient, Clock.systemUTC());
      KafkaStreams streams = app.kafkaStreams();
      try {
        await("the streams app running")
            .atMost(DEADLINE)
            .until(() -> streams.state() == KafkaStreams.State.RUNNING);
        CheckpointMetrics metrics = app.checkpointFollower().orElseThrow().metrics();
        assertThat(metrics.activeVersion(SAE)).isZero();

        TrainerApp trainer =
            TrainerApp.create(
                TrainerConfigLoader.parse(
                    trainerYaml(broker, registry, topics.activations(), checkpoints),
                    tmp,
                    Map.of()));
        Map<TopicPartition, List<Long>> produced = new HashMap<>();
        try {
          Future<?> training = threads.submit(trainer::run);
          Producer producer =
              new Producer(broker.bootstrapServers(), registryClient, topics.activations());
          try {
            // The flow: a steady trickle while the trainer learns and publishes.
            Future<?> flow = threads.submit(() -> producer.produce(0, FLOW_BATCHES, 25));
            flow.get(2, TimeUnit.MINUTES);
            // The trainer publishes what it learned since its last version and stops.
            await("the trainer to train on every batch")
                .atMost(DEADLINE)
                .until(() -> trainer.recordsTrained() == FLOW_BATCHES);
            trainer.shutdown();
            training.get(1, TimeUnit.MINUTES);
            List<PublishedCheckpoint> published = trainer.published();
            assertThat(published).hasSizeGreaterThanOrEqualTo(2);
            long last = published.get(published.size() - 1).version();
            for (int i = 1; i < published.size(); i++) {
              assertThat(published.get(i).version()).isGreaterThan(published.get(i - 1).version());
            }
            // Each version swapped in by the running app, none refused.
            await("every published version swapped in")
                .atMost(DEADLINE)
                .until(
                    () ->
                        metrics.activeVersion(SAE) == last
                            && metrics.swaps(SAE) == published.size());
            assertThat(metrics.rejectedTotal()).isZero();
            assertThat(app.registry().find(SAE).orElseThrow().version()).isEqualTo(last);

            // The tail: produced after the last swap, served by the last version only.
            producer.produce(FLOW_BATCHES, TAIL_BATCHES, 0);
            produced.putAll(producer.acknowledged());
            assertThat(producer.count()).isEqualTo(FLOW_BATCHES + TAIL_BATCHES);

            Map<String, FeatureBatch> bySource =
                awaitOneOutputPerInput(
                    broker.bootstrapServers(), registryClient, topics.features(), produced);
            // Still the same app, never restarted, never failed.
            assertThat(app.failed()).isFalse();
            assertThat(app.kafkaStreams()).isSameAs(streams);
            assertThat(streams.state()).isEqualTo(KafkaStreams.State.RUNNING);

            List<Long> flowVersions = new ArrayList<>();
            for (Map.Entry<TopicPartition, List<Long>> e : produced.entrySet()) {
              List<Long> versions = new ArrayList<>();
              for (long offset : e.getValue()) {
                FeatureBatch out = bySource.get(key(e.getKey().partition(), offset));
                assertThat(out).as("output of %s@%d", e.getKey(), offset).isNotNull();
                versions.add(Objects.requireNonNull(out).getSaeVersion());
              }
              // Offsets ascend within a partition: the served version never goes back.
              assertThat(versions).as("versions on %s in offset order", e.getKey()).isSorted();
              flowVersions.addAll(versions.subList(0, versions.size() - tailOf(producer, e)));
              for (long v :
                  versions.subList(versions.size() - tailOf(producer, e), versions.size())) {
                assertThat(v).as("a tail batch on %s", e.getKey()).isEqualTo(last);
              }
            }
            System.out.printf(
                "published v1..v%d, %d swaps; FeatureBatch versions during the flow: %s%n",
                last, metrics.swaps(SAE), distinct(flowVersions));
            // The trainer's versions served traffic while the batches flowed, not only after.
            assertThat(flowVersions.stream().filter(v -> v > 0).distinct().count())
                .as("trainer versions seen during the flow: %s", distinct(flowVersions))
                .isGreaterThanOrEqualTo(2);
          } finally {
            producer.close();
          }
        } finally {
          trainer.close();
        }
      } finally {
        app.close();
        threads.shutdownNow();
      }
    }
  }

  private static String distinct(List<Long> versions) {
    return new TreeMap<>(
            versions.stream()
                .collect(Collectors.groupingBy(Function.identity(), Collectors.counting())))
        .toString();
  }

  private static int tailOf(Producer producer, Map.Entry<TopicPartition, List<Long>> e) {
    return producer.tailCount(e.getKey());
  }

  private static String key(int partition, long offset) {
    return partition + "@" + offset;
  }

  /**
   * Reads the features topic (read_committed) until there is an output for every input, then checks
   * that there is exactly one per input and none for anything else.
   */
  private static Map<String, FeatureBatch> awaitOneOutputPerInput(
      String bootstrap,
      SchemaRegistryClient registry,
      String topic,
      Map<TopicPartition, List<Long>> produced) {
    int inputs = produced.values().stream().mapToInt(List::size).sum();
    List<FeatureBatch> outputs = new ArrayList<>();
    try (KafkaConsumer<String, FeatureBatch> consumer =
        ReadCommittedConsumers.featureBatches(bootstrap, registry, topic, PARTITIONS)) {
      await("a FeatureBatch for each of the " + inputs + " batches")
          .atMost(DEADLINE)
          .until(
              () -> {
                for (ConsumerRecord<String, FeatureBatch> r :
                    consumer.poll(Duration.ofMillis(200))) {
                  outputs.add(r.value());
                }
                return outputs.size() >= inputs;
              });
      // Anything committed after the last expected output would be a duplicate: read on briefly.
      for (int i = 0; i < 5; i++) {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> outputs.add(r.value()));
      }
    }
    Map<String, FeatureBatch> bySource = new LinkedHashMap<>();
    for (FeatureBatch f : outputs) {
      assertThat(f.getSaeId()).isEqualTo(SAE);
      FeatureBatch before = bySource.put(key(f.getSourcePartition(), f.getSourceOffset()), f);
      assertThat(before)
          .as("a second output for %d@%d", f.getSourcePartition(), f.getSourceOffset())
          .isNull();
    }
    assertThat(outputs).hasSize(inputs);
    return bySource;
  }

  private static String trainerYaml(
      EmbeddedKafkaBroker broker,
      EmbeddedSchemaRegistry registry,
      String activations,
      String checkpoints) {
    return """
        kafka:
          bootstrap-servers: %s
          group-id: swap-it-trainer
          properties:
            max.poll.records: 4
        schema-registry:
          urls: %s
        topics:
          activations: %s
          checkpoints: %s
        runtime:
          intra-op-threads: 1
          poll-timeout: 100ms
        trainers:
          - sae-id: %s
            model-id: %s
            hook-name: %s
            d-in: %d
            d-sae: %d
            k: %d
            batch-size: 64
            buffer-tokens: 256
            lr: 1e-3
            warmup-steps: 5
            eval-every: 4
            publish-every-tokens: 1024
            publish-every: 1h
        """
        .formatted(
            broker.bootstrapServers(),
            registry.url(),
            activations,
            checkpoints,
            SAE,
            MODEL,
            HOOK,
            SHAPE.dIn(),
            SHAPE.dSae(),
            SHAPE.k());
  }

  /** A TopK SAE with random unit decoder rows and W_enc = W_decᵀ, as a sae-lens directory. */
  private static void untrainedTopK(Path dir) {
    int dIn = SHAPE.dIn();
    int dSae = SHAPE.dSae();
    SplittableRandom random = new SplittableRandom(3);
    float[] dec = new float[dSae * dIn];
    for (int j = 0; j < dSae; j++) {
      double norm = 0;
      for (int d = 0; d < dIn; d++) {
        float v = (float) (random.nextDouble() * 2 - 1);
        dec[j * dIn + d] = v;
        norm += (double) v * v;
      }
      for (int d = 0; d < dIn; d++) {
        dec[j * dIn + d] /= (float) Math.sqrt(norm);
      }
    }
    SHAPE.tied(dec, new float[dSae], new float[dIn]).write(dir);
  }

  /**
   * Produces activation batches of synthetic activations and remembers where each landed. Used by
   * one thread at a time.
   */
  private static final class Producer implements AutoCloseable {
    private static final ActivationBatchTemplate BATCHES =
        new ActivationBatchTemplate(MODEL, HOOK, Dtype.F32, Map.of());

    private final AcknowledgedBatchProducer producer;
    private final String topic;
    private final GroundTruthModel truth =
        new GroundTruthModel(GroundTruthConfig.defaults(SHAPE.dIn(), 48, 17L));
    private final Map<TopicPartition, List<Long>> acknowledged =
        new TreeMap<>((a, b) -> Integer.compare(a.partition(), b.partition()));
    private final Map<TopicPartition, Integer> tail = new HashMap<>();
    private int count;

    Producer(String bootstrap, SchemaRegistryClient registry, String topic) {
      this.producer = new AcknowledgedBatchProducer(bootstrap, registry);
      this.topic = topic;
    }

    /**
     * Sends batches {@code [from, from + n)}, each acknowledged before the next, {@code gapMs}
     * apart.
     */
    void produce(int from, int n, long gapMs) {
      boolean isTail = from >= FLOW_BATCHES;
      try {
        for (int i = from; i < from + n; i++) {
          RecordMetadata m = producer.send(topic, batch(i));
          TopicPartition tp = new TopicPartition(m.topic(), m.partition());
          acknowledged.computeIfAbsent(tp, k -> new ArrayList<>()).add(m.offset());
          if (isTail) {
            tail.merge(tp, 1, Integer::sum);
          }
          count++;
          if (gapMs > 0) {
            // Pacing, not waiting for a condition: a steady trickle across every swap.
            Thread.sleep(gapMs);
          }
        }
      } catch (Exception e) {
        throw new IllegalStateException("producing batch failed", e);
      }
    }

    private ActivationBatch batch(int i) {
      float[] data = truth.sampleBatch(new SplittableRandom(i), TOKENS);
      return BATCHES.build("seq-" + i, 0, data, TOKENS, SHAPE.dIn(), null, null, Instant.now());
    }

    Map<TopicPartition, List<Long>> acknowledged() {
      Map<TopicPartition, List<Long>> copy = new LinkedHashMap<>();
      acknowledged.forEach((tp, offsets) -> copy.put(tp, List.copyOf(offsets)));
      return copy;
    }

    int tailCount(TopicPartition tp) {
      return tail.getOrDefault(tp, 0);
    }

    int count() {
      return count;
    }

    @Override
    public void close() {
      producer.close();
    }
  }
}
