package io.saestream.synthetic.produce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.saestream.embedded.kafka.EmbeddedKafkaBroker;
import io.saestream.embedded.registry.EmbeddedSchemaRegistry;
import io.saestream.schema.registry.RestSchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryClientConfig;
import io.saestream.schema.serde.SpecificAvroDeserializer;
import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.Dtype;
import io.saestream.synthetic.GroundTruthConfig;
import io.saestream.synthetic.GroundTruthModel;
import io.saestream.synthetic.ManualClock;
import io.saestream.synthetic.cli.ProduceCommand;
import io.saestream.synthetic.encoding.ActivationCodec;
import io.saestream.synthetic.encoding.NpyActivationFile;
import io.saestream.synthetic.incident.IncidentSchedule;
import io.saestream.synthetic.sequence.GeneratedBatch;
import io.saestream.synthetic.sequence.SequenceConfig;
import io.saestream.synthetic.sequence.SequenceGenerator;
import io.saestream.synthetic.sequence.Vocabulary;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Produces to a real in-JVM broker and registry and reads back with the project's deserializer. */
class SyntheticProducerIT {

  private static final Duration DEADLINE = Duration.ofSeconds(30);
  private static final int MAX_MESSAGE_BYTES = 8 << 20;

  private static EmbeddedKafkaBroker kafka;
  private static EmbeddedSchemaRegistry registry;

  @TempDir Path dir;

  @BeforeAll
  static void start() {
    kafka = EmbeddedKafkaBroker.withDefaults().start();
    registry = EmbeddedSchemaRegistry.start();
  }

  @AfterAll
  static void stop() {
    registry.close();
    kafka.close();
  }

  private static void createTopic(String topic, int partitions) {
    kafka.createTopics(
        new NewTopic(topic, partitions, (short) 1)
            .configs(
                Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MAX_MESSAGE_BYTES))));
  }

  private static ProducerSettings settings(String topic) {
    return ProducerSettings.defaults(kafka.bootstrapServers(), registry.url().toString())
        .withTopic(topic);
  }

  private static SequenceGenerator generator(long seed) {
    GroundTruthModel model = new GroundTruthModel(GroundTruthConfig.defaults(32, 128, seed));
    return new SequenceGenerator(
        model,
        SequenceConfig.defaults().withTokensPerRecord(16).withLengths(20, 40, 60),
        IncidentSchedule.parse("burst@100ms:feature=3,tokens=8"),
        new ManualClock(Instant.parse("2025-01-01T00:00:00Z"), Duration.ofMillis(10)),
        seed);
  }

  private static List<ConsumerRecord<String, ActivationBatch>> consume(String topic, int count) {
    Map<String, Object> props = new HashMap<>();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "it-" + topic);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    SpecificAvroDeserializer<ActivationBatch> values =
        new SpecificAvroDeserializer<>(
            new RestSchemaRegistryClient(SchemaRegistryClientConfig.of(registry.url().toString())),
            ActivationBatch.class);
    List<ConsumerRecord<String, ActivationBatch>> records = new ArrayList<>();
    try (KafkaConsumer<String, ActivationBatch> consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), values)) {
      consumer.subscribe(List.of(topic));
      await()
          .atMost(DEADLINE)
          .until(
              () -> {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                return records.size() >= count;
              });
      // Nothing beyond what was produced.
      assertThat(consumer.poll(Duration.ofMillis(500))).isEmpty();
    }
    return records;
  }

  @Test
  void generatedRecordsRoundTripWithKeysTokensAndIdenticalFloats() {
    String topic = "it.generated";
    createTopic(topic, 3);
    int count = 60;
    try (SyntheticProducer producer = SyntheticProducer.open(settings(topic))) {
      BatchSource source = new GeneratedBatchSource(generator(11), TestBatches.TEMPLATE);
      ProduceSummary summary =
          producer.run(source, ProduceLimits.unlimited().withMaxRecords(count));
      assertThat(summary.records()).isEqualTo(count);
    }
    Map<String, GeneratedBatch> expected = new HashMap<>();
    SequenceGenerator replay = generator(11);
    int burstTokens = 0;
    for (int i = 0; i < count; i++) {
      GeneratedBatch batch = replay.next();
      expected.put(batch.sequenceId() + "@" + batch.startPosition(), batch);
      for (int t = 0; t < batch.nTokens(); t++) {
        burstTokens += batch.isBurst(t) ? 1 : 0;
      }
    }
    assertThat(burstTokens).isEqualTo(8);

    List<ConsumerRecord<String, ActivationBatch>> records = consume(topic, count);
    assertThat(records).hasSize(count);
    Map<String, Integer> nextPosition = new HashMap<>();
    for (ConsumerRecord<String, ActivationBatch> record : records) {
      ActivationBatch batch = record.value();
      assertThat(record.key()).isEqualTo(batch.getSequenceId());
      assertThat(record.timestamp()).isEqualTo(batch.getProducedAt().toEpochMilli());
      // One partition per key, so a sequence's records arrive in order.
      assertThat(batch.getStartPosition()).isEqualTo(nextPosition.getOrDefault(record.key(), 0));
      nextPosition.put(record.key(), batch.getStartPosition() + batch.getNTokens());
      String id = batch.getSequenceId() + "@" + batch.getStartPosition();
      GeneratedBatch truth =
          Objects.requireNonNull(expected.get(id), () -> id + " was never generated");
      assertThat(batch.getNTokens()).isEqualTo(truth.nTokens());
      assertThat(batch.getDIn()).isEqualTo(32);
      assertThat(batch.getDtype()).isEqualTo(Dtype.F32);
      assertThat(ActivationCodec.decode(batch.getData(), batch.getDtype())).isEqualTo(truth.data());
      assertThat(batch.getTokens()).isEqualTo(truth.tokens());
      assertThat(batch.getTokenIds()).hasSize(truth.nTokens());
      assertThat(batch.getAttributes()).containsEntry("tenant", "t1");
    }
  }

  @Test
  void aFourMebibyteRecordOfReplayedActivationsGoesThrough() throws IOException {
    String topic = "it.large";
    createTopic(topic, 1);
    int tokens = 256;
    int dIn = 4096;
    float[] data = new float[tokens * dIn];
    SplittableRandom rng = new SplittableRandom(3);
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) rng.nextGaussian();
    }
    Path file = dir.resolve("acts.npy");
    NpyActivationFile.write(file, data, tokens, dIn);
    ActivationBatchTemplate template =
        new ActivationBatchTemplate("replayed", "blocks.0.hook_resid_pre", Dtype.F32, Map.of());
    try (SyntheticProducer producer = SyntheticProducer.open(settings(topic));
        ReplayBatchSource source =
            new ReplayBatchSource(
                NpyActivationFile.open(file),
                template,
                tokens,
                tokens,
                "r-",
                ManualClock.at(Instant.EPOCH))) {
      assertThat(producer.run(source, ProduceLimits.unlimited()).dataBytes()).isEqualTo(4L << 20);
    }
    List<ConsumerRecord<String, ActivationBatch>> records = consume(topic, 1);
    ActivationBatch batch = records.get(0).value();
    assertThat(records.get(0).key()).isEqualTo("r-0");
    assertThat(batch.getNTokens()).isEqualTo(tokens);
    float[] decoded = ActivationCodec.decode(batch.getData(), Dtype.F32);
    // Arrays.mismatch: linear, and on failure names the first differing index (-1 = identical).
    assertThat(Arrays.mismatch(decoded, data)).as("first differing float").isEqualTo(-1);
  }

  @Test
  void theProduceCommandWritesHalfPrecisionRecordsWithTokens() {
    String topic = "it.cli";
    createTopic(topic, 2);
    int exit =
        ProduceCommand.commandLine()
            .execute(
                "--bootstrap-servers", kafka.bootstrapServers(),
                "--registry-url", registry.url().toString(),
                "--topic", topic,
                "--count", "12",
                "--d-in", "32",
                "--features", "128",
                "--tokens-per-record", "8",
                "--dtype", "F16",
                "--incidents", "burst@0s:feature=4,tokens=8");
    assertThat(exit).isZero();
    List<ConsumerRecord<String, ActivationBatch>> records = consume(topic, 12);
    assertThat(records).hasSize(12);
    List<String> burstWords =
        new Vocabulary(128, SequenceConfig.defaults().triggerWordsPerFeature()).triggerWords(4);
    boolean burstSeen = false;
    for (ConsumerRecord<String, ActivationBatch> record : records) {
      ActivationBatch batch = record.value();
      assertThat(record.key()).startsWith("seq-42-");
      assertThat(batch.getDtype()).isEqualTo(Dtype.F16);
      assertThat(batch.getDIn()).isEqualTo(32);
      assertThat(batch.getData().remaining()).isEqualTo(batch.getNTokens() * 32 * 2);
      assertThat(batch.getTokens()).hasSize(batch.getNTokens());
      assertThat(batch.getModelId()).isEqualTo("synthetic-llm");
      // The burst starts at once, in the first record: all 8 tokens are feature 4's trigger words.
      List<String> tokens = batch.getTokens();
      burstSeen |=
          batch.getStartPosition() == 0 && tokens != null && burstWords.containsAll(tokens);
    }
    assertThat(burstSeen).isTrue();
  }
}
