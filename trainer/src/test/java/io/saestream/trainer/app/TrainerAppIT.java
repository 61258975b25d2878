package io.saestream.trainer.app;

import static io.saestream.trainer.app.SyntheticActivationStream.D_IN;
import static io.saestream.trainer.app.SyntheticActivationStream.D_SAE;
import static io.saestream.trainer.app.SyntheticActivationStream.HOOK;
import static io.saestream.trainer.app.SyntheticActivationStream.MODEL;
import static io.saestream.trainer.app.SyntheticActivationStream.TOKENS_PER_RECORD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.schema.checkpoint.ArchiveLimits;
import io.saestream.schema.checkpoint.CheckpointArchive;
import io.saestream.schema.v1.Dtype;
import io.saestream.trainer.config.TrainerConfig;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
  private static final String GROUP = "it-trainer";
  private static final String SAE = "it-sae";
  private static final int GOOD_RECORDS = 150;

  @TempDir Path tmp;

  @Test
  @Timeout(120)
  void trainsPublishesVerifiableVersionsAndCommitsAfterPublishing() throws Exception {
    try (TrainerBroker kafka = TrainerBroker.start(ACTIVATIONS, 2, CHECKPOINTS)) {
      int produced = produce(kafka, GOOD_RECORDS, true);

      TrainerConfig config =
          SyntheticActivationStream.trainer(SAE, ACTIVATIONS, CHECKPOINTS)
              .evalEvery(2)
              .publishEvery(512, "1h")
              .parse(
                  tmp,
                  Map.of(
                      "SAE_STREAM_KAFKA_BOOTSTRAP_SERVERS",
                      kafka.bootstrapServers(),
                      "SAE_STREAM_SCHEMA_REGISTRY_URLS",
                      kafka.registryUrl(),
                      "SAE_STREAM_KAFKA_GROUP_ID",
                      GROUP,
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
      assertThat(kafka.committedRecords(GROUP)).isEqualTo(produced);

      CheckpointTopicContents topic = kafka.readCheckpoints();
      List<io.saestream.schema.v1.SaeCheckpoint> manifests = topic.manifests();
      assertThat(manifests).hasSizeGreaterThanOrEqualTo(2);
      assertThat(manifests.size()).isEqualTo(app.published().size());
      for (int i = 1; i < manifests.size(); i++) {
        assertThat(manifests.get(i).getVersion()).isGreaterThan(manifests.get(i - 1).getVersion());
      }
      for (io.saestream.schema.v1.SaeCheckpoint m : manifests) {
        verifyAndOpen(m, topic.payload(m));
      }
      long lastVersion = manifests.get(manifests.size() - 1).getVersion();

      // A restarted trainer starts from fresh weights: stopped after fewer tokens than one
      // publication interval, it publishes nothing and commits nothing (the records are re-read).
      int committedBefore = produced;
      produced += produce(kafka, 12, false);
      try (TrainerApp restarted = TrainerApp.create(config)) {
        runUntilTrained(restarted, loop, 12);
        assertThat(restarted.published()).isEmpty();
      }
      assertThat(kafka.committedRecords(GROUP)).isEqualTo(committedBefore);

      // Given a full interval, it learns the last version from the topic and continues after it.
      produced += produce(kafka, 40, false);
      try (TrainerApp restarted = TrainerApp.create(config)) {
        runUntilTrained(restarted, loop, 52);
        assertThat(restarted.published()).isNotEmpty();
        assertThat(restarted.published().get(0).version()).isEqualTo(lastVersion + 1);
      } finally {
        loop.shutdownNow();
      }
      assertThat(kafka.committedRecords(GROUP)).isEqualTo(produced);
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

  /**
   * Sends {@code good} synthetic records (every third one BF16, to exercise the half-precision path
   * end to end) and, with {@code bad}, one record of each kind the trainer must skip; returns how
   * many records it sent.
   */
  private static int produce(TrainerBroker kafka, int good, boolean bad) {
    SplittableRandom rng = new SplittableRandom(5 + good);
    try (ActivationProducer producer = kafka.activationProducer()) {
      for (int r = 0; r < good; r++) {
        producer.send(
            SyntheticActivationStream.record("seq-" + r, r % 3 == 0 ? Dtype.BF16 : Dtype.F32, rng));
      }
      if (!bad) {
        return good;
      }
      // Undecodable: magic byte 0, schema id 99 that the registry never issued, junk.
      producer.sendBytes("garbage", new byte[] {0, 0, 0, 0, 99, 1, 2});
      producer.send(
          ActivationBatches.batch(
              "other-model", HOOK, "x1", TOKENS_PER_RECORD, D_IN, Dtype.F32, zeros(D_IN)));
      producer.send(
          ActivationBatches.batch(
              MODEL, HOOK, "x2", TOKENS_PER_RECORD, D_IN + 1, Dtype.F32, zeros(D_IN + 1)));
      producer.send(
          ActivationBatches.batch(
              MODEL, HOOK, "x3", TOKENS_PER_RECORD, D_IN, Dtype.F32, new byte[10]));
      float[] nan = new float[TOKENS_PER_RECORD * D_IN];
      nan[7] = Float.NaN;
      producer.send(
          ActivationBatches.batch(
              MODEL,
              HOOK,
              "x4",
              TOKENS_PER_RECORD,
              D_IN,
              Dtype.F32,
              ActivationBatches.encode(nan, Dtype.F32)));
      return good + 5;
    }
  }

  /** A record's worth of F32 zeros in rows of {@code width}. */
  private static byte[] zeros(int width) {
    return ActivationBatches.encode(new float[TOKENS_PER_RECORD * width], Dtype.F32);
  }

  private void verifyAndOpen(io.saestream.schema.v1.SaeCheckpoint m, byte[] payload)
      throws Exception {
    assertThat((long) payload.length).isEqualTo(m.getPayloadSize());
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payload));
    assertThat(sha).isEqualTo(m.getPayloadSha256());
    Path dir = tmp.resolve("v" + m.getVersion());
    CheckpointArchive.extract(new ByteArrayInputStream(payload), dir, ArchiveLimits.of(1L << 30));
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
