package io.saestream.trainer.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.saestream.embedded.kafka.EmbeddedKafkaBroker;
import io.saestream.embedded.registry.EmbeddedSchemaRegistry;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.schema.checkpoint.ArchiveLimits;
import io.saestream.schema.checkpoint.CheckpointArchive;
import io.saestream.schema.checkpoint.CheckpointRecordDeserializer;
import io.saestream.schema.checkpoint.CheckpointTopic;
import io.saestream.schema.registry.RestSchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryClientConfig;
import io.saestream.schema.serde.AvroSerdeConfig;
import io.saestream.schema.serde.SpecificAvroSerializer;
import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.Dtype;
import io.saestream.schema.v1.SaeCheckpointChunk;
import io.saestream.synthetic.GroundTruthConfig;
import io.saestream.synthetic.GroundTruthModel;
import io.saestream.trainer.config.TrainerConfig;
import io.saestream.trainer.config.TrainerConfigLoader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end on a real broker and registry: synthetic activations in, at least two verified
 * sae-lens checkpoints out, offsets committed after the last publication, bad records counted.
 */
class TrainerAppIT {

  private static final String ACTIVATIONS = "it.activations";
  private static final String CHECKPOINTS = "it.checkpoints";
  private static final String MODEL = "synthetic-model";
  private static final String HOOK = "blocks.0.hook_resid_pre";
  private static final String SAE = "it-sae";
  private static final int D_IN = 16;
  private static final int D_SAE = 64;
  private static final int TOKENS_PER_RECORD = 32;
  private static final int GOOD_RECORDS = 150;

  @TempDir Path tmp;

  @Test
  @Timeout(120)
  void trainsPublishesVerifiableVersionsAndCommitsAfterPublishing() throws Exception {
    try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.withDefaults().start();
        EmbeddedSchemaRegistry registryServer = EmbeddedSchemaRegistry.start()) {
      kafka.createTopics(
          new NewTopic(ACTIVATIONS, 2, (short) 1),
          CheckpointTopic.newTopic(CHECKPOINTS, 1, (short) 1));
      SchemaRegistryClient registry =
          new RestSchemaRegistryClient(
              SchemaRegistryClientConfig.of(registryServer.url().toString()));
      int produced = produce(kafka.bootstrapServers(), registry, GOOD_RECORDS, true);

      TrainerConfig config =
          TrainerConfigLoader.parse(
              """
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
                  k: 4
                  batch-size: 64
                  buffer-tokens: 256
                  lr: 1e-3
                  warmup-steps: 5
                  eval-every: 2
                  publish-every-tokens: 512
                  publish-every: 1h
              """
                  .formatted(ACTIVATIONS, CHECKPOINTS, SAE, MODEL, HOOK, D_IN, D_SAE),
              tmp,
              Map.of(
                  "SAE_STREAM_KAFKA_BOOTSTRAP_SERVERS",
                  kafka.bootstrapServers(),
                  "SAE_STREAM_SCHEMA_REGISTRY_URLS",
                  registryServer.url().toString(),
                  "SAE_STREAM_KAFKA_GROUP_ID",
                  "it-trainer",
                  // Small polls spread training over many loop turns, so that several
                  // publication rounds start while records are still arriving.
                  "SAE_STREAM_KAFKA_PROPERTIES_MAX_POLL_RECORDS",
                  "4"));

      ExecutorService loop = Executors.newSingleThreadExecutor();
      TrainerApp app = TrainerApp.create(config);
      try {
        Future<?> running = loop.submit(app::run);
        await().atMost(Duration.ofSeconds(60)).until(() -> app.recordsTrained() == GOOD_RECORDS);
        app.shutdown();
        running.get();
        // ~2400 trained tokens at one round per 512: at least one round while consuming (it
        // starts long before the last record) and the shutdown round for what came after it.
        assertThat(app.published()).hasSizeGreaterThanOrEqualTo(2);
        assertThat(app.skipped(SkipReason.UNDECODABLE)).isEqualTo(1);
        assertThat(app.skipped(SkipReason.UNKNOWN_ROUTE)).isEqualTo(1);
        assertThat(app.skipped(SkipReason.D_IN_MISMATCH)).isEqualTo(1);
        assertThat(app.skipped(SkipReason.BAD_SHAPE)).isEqualTo(1);
        assertThat(app.skipped(SkipReason.NON_FINITE)).isEqualTo(1);
      } finally {
        app.close();
      }
      // The final publication on shutdown commits every consumed record.
      assertThat(committed(kafka.bootstrapServers(), "it-trainer")).isEqualTo(produced);

      List<io.saestream.schema.v1.SaeCheckpoint> manifests = new ArrayList<>();
      Map<String, byte[]> chunks = new TreeMap<>();
      readCheckpoints(kafka.bootstrapServers(), registry, manifests, chunks);
      assertThat(manifests).hasSizeGreaterThanOrEqualTo(2);
      assertThat(manifests.size()).isEqualTo(app.published().size());
      for (int i = 1; i < manifests.size(); i++) {
        assertThat(manifests.get(i).getVersion()).isGreaterThan(manifests.get(i - 1).getVersion());
      }
      for (io.saestream.schema.v1.SaeCheckpoint m : manifests) {
        verifyAndOpen(m, chunks);
      }
      long lastVersion = manifests.get(manifests.size() - 1).getVersion();

      // A restarted trainer starts from fresh weights: stopped after fewer tokens than one
      // publication interval, it publishes nothing and commits nothing (the records are re-read).
      int committedBefore = produced;
      produced += produce(kafka.bootstrapServers(), registry, 12, false);
      try (TrainerApp restarted = TrainerApp.create(config)) {
        runUntilTrained(restarted, loop, 12);
        assertThat(restarted.published()).isEmpty();
      }
      assertThat(committed(kafka.bootstrapServers(), "it-trainer")).isEqualTo(committedBefore);

      // Given a full interval, it learns the last version from the topic and continues after it.
      produced += produce(kafka.bootstrapServers(), registry, 40, false);
      try (TrainerApp restarted = TrainerApp.create(config)) {
        runUntilTrained(restarted, loop, 52);
        assertThat(restarted.published()).isNotEmpty();
        assertThat(restarted.published().get(0).version()).isEqualTo(lastVersion + 1);
      } finally {
        loop.shutdownNow();
      }
      assertThat(committed(kafka.bootstrapServers(), "it-trainer")).isEqualTo(produced);
    }
  }

  private static void runUntilTrained(TrainerApp app, ExecutorService loop, int records)
      throws Exception {
    Future<?> running = loop.submit(app::run);
    await().atMost(Duration.ofSeconds(30)).until(() -> app.recordsTrained() == records);
    app.shutdown();
    running.get();
    assertThat(app.recordsTrained()).isEqualTo(records);
  }

  private int produce(String bootstrap, SchemaRegistryClient registry, int good, boolean bad)
      throws Exception {
    GroundTruthModel truth = new GroundTruthModel(GroundTruthConfig.defaults(D_IN, 32, 11));
    SplittableRandom rng = new SplittableRandom(5 + good);
    Map<String, Object> props =
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG, "all");
    SpecificAvroSerializer<ActivationBatch> serializer =
        new SpecificAvroSerializer<>(registry, AvroSerdeConfig.forValues());
    int count = 0;
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      for (int r = 0; r < good; r++) {
        // Every third record is BF16, to exercise the half-precision path end to end.
        Dtype dtype = r % 3 == 0 ? Dtype.BF16 : Dtype.F32;
        float[] rows = new float[TOKENS_PER_RECORD * D_IN];
        for (int t = 0; t < TOKENS_PER_RECORD; t++) {
          System.arraycopy(truth.sample(rng).activation(), 0, rows, t * D_IN, D_IN);
        }
        send(
            producer, serializer, batch("seq-" + r, MODEL, HOOK, D_IN, dtype, encode(rows, dtype)));
        count++;
      }
      if (!bad) {
        producer.flush();
        return count;
      }
      // Undecodable: magic byte 0, schema id 99 that the registry never issued, junk.
      producer
          .send(new ProducerRecord<>(ACTIVATIONS, "garbage", new byte[] {0, 0, 0, 0, 99, 1, 2}))
          .get();
      float[] one = new float[TOKENS_PER_RECORD * D_IN];
      send(
          producer,
          serializer,
          batch("x1", "other-model", HOOK, D_IN, Dtype.F32, encode(one, Dtype.F32)));
      float[] wide = new float[TOKENS_PER_RECORD * (D_IN + 1)];
      send(
          producer,
          serializer,
          batch("x2", MODEL, HOOK, D_IN + 1, Dtype.F32, encode(wide, Dtype.F32)));
      byte[] shortData = new byte[10];
      send(producer, serializer, batch("x3", MODEL, HOOK, D_IN, Dtype.F32, shortData));
      float[] nan = new float[TOKENS_PER_RECORD * D_IN];
      nan[7] = Float.NaN;
      send(producer, serializer, batch("x4", MODEL, HOOK, D_IN, Dtype.F32, encode(nan, Dtype.F32)));
      count += 5;
      producer.flush();
    }
    return count;
  }

  private static void send(
      KafkaProducer<String, byte[]> producer,
      SpecificAvroSerializer<ActivationBatch> serializer,
      ActivationBatch batch)
      throws Exception {
    byte[] value =
        serializer == null
            ? new byte[] {0, 0, 0, 0, 99, 1, 2}
            : serializer.serialize(ACTIVATIONS, batch);
    String key = batch == null ? "garbage" : batch.getSequenceId();
    producer.send(new ProducerRecord<>(ACTIVATIONS, key, value)).get();
  }

  private static ActivationBatch batch(
      String seq, String model, String hook, int dIn, Dtype dtype, byte[] data) {
    return ActivationBatch.newBuilder()
        .setModelId(model)
        .setHookName(hook)
        .setSequenceId(seq)
        .setStartPosition(0)
        .setNTokens(TOKENS_PER_RECORD)
        .setDIn(dIn)
        .setDtype(dtype)
        .setData(ByteBuffer.wrap(data))
        .setProducedAt(Instant.now())
        .setAttributes(Map.of())
        .build();
  }

  private static byte[] encode(float[] values, Dtype dtype) {
    int width = dtype == Dtype.F32 ? 4 : 2;
    ByteBuffer b = ByteBuffer.allocate(values.length * width).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      if (dtype == Dtype.F32) {
        b.putFloat(v);
      } else {
        b.putShort((short) (Float.floatToIntBits(v) >>> 16));
      }
    }
    return b.array();
  }

  private static long committed(String bootstrap, String group) throws Exception {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      Map<TopicPartition, OffsetAndMetadata> offsets =
          admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
      return offsets.values().stream().mapToLong(OffsetAndMetadata::offset).sum();
    }
  }

  private static void readCheckpoints(
      String bootstrap,
      SchemaRegistryClient registry,
      List<io.saestream.schema.v1.SaeCheckpoint> manifests,
      Map<String, byte[]> chunks) {
    Map<String, Object> props =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap,
            ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            "read_committed",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            false);
    try (KafkaConsumer<String, SpecificRecord> consumer =
        new KafkaConsumer<>(
            props, new StringDeserializer(), new CheckpointRecordDeserializer(registry))) {
      TopicPartition tp = new TopicPartition(CHECKPOINTS, 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long end = consumer.endOffsets(List.of(tp)).getOrDefault(tp, 0L);
      while (consumer.position(tp) < end) {
        for (ConsumerRecord<String, SpecificRecord> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.value() instanceof io.saestream.schema.v1.SaeCheckpoint m) {
            manifests.add(m);
          } else if (r.value() instanceof SaeCheckpointChunk c) {
            byte[] data = new byte[c.getData().remaining()];
            c.getData().duplicate().get(data);
            chunks.put(c.getVersion() + "/" + c.getIndex(), data);
          }
        }
      }
    }
  }

  private void verifyAndOpen(io.saestream.schema.v1.SaeCheckpoint m, Map<String, byte[]> chunks)
      throws Exception {
    ByteArrayOutputStream payload = new ByteArrayOutputStream();
    for (int i = 0; i < m.getChunkCount(); i++) {
      byte[] chunk = chunks.get(m.getVersion() + "/" + i);
      assertThat(chunk).as("chunk %d of v%d", i, m.getVersion()).isNotNull();
      payload.write(chunk);
    }
    byte[] bytes = payload.toByteArray();
    assertThat((long) bytes.length).isEqualTo(m.getPayloadSize());
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    assertThat(sha).isEqualTo(m.getPayloadSha256());
    Path dir = tmp.resolve("v" + m.getVersion());
    CheckpointArchive.extract(new ByteArrayInputStream(bytes), dir, ArchiveLimits.of(1L << 30));
    try (SaeCheckpoint sae = SaeCheckpoint.open(dir)) {
      assertThat(sae.config().dIn()).isEqualTo(D_IN);
      assertThat(sae.config().dSae()).isEqualTo(D_SAE);
    }
    assertThat(m.getSaeId()).isEqualTo(SAE);
    assertThat(m.getDIn()).isEqualTo(D_IN);
    // eval-every: 2 holds batches out, so every version carries its evaluation.
    assertThat(m.getMetrics()).isNotNull();
    assertThat(m.getMetrics().getFvu()).isBetween(0.0, 1.5);
  }
}
