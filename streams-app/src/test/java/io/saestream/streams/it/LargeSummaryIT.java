package io.saestream.streams.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.Dtype;
import io.saestream.schema.v1.FeatureBatch;
import io.saestream.streams.StreamsApp;
import io.saestream.streams.config.MonitoringSettings;
import io.saestream.streams.config.SaeDeployment;
import io.saestream.streams.config.StreamsAppConfig;
import io.saestream.streams.config.StreamsSettings;
import io.saestream.streams.config.TopicNames;
import io.saestream.streams.monitoring.DecodedSummary;
import io.saestream.streams.monitoring.MonitoringQueries;
import io.saestream.streams.monitoring.MonitoringStores;
import io.saestream.streams.testing.ActivationBatches;
import io.saestream.streams.testing.ClusterPerClass;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batch summaries larger than Kafka's 1 MiB defaults travel through the aggregates topic of a
 * monitored, exactly-once app on a real broker. One wide topk SAE (d_in {@value #D_IN}, d_sae
 * {@value #D_SAE}, k {@value #K}) with unit-norm encoder columns in random directions analyzes
 * records of {@value #TOKENS} tokens with text: each record fires 131,072 (token, latent) pairs
 * over about 103k distinct latents, each of them a new top-context candidate, so its summary is
 * about 1.83 MB (1,828,963 to 1,833,134 bytes measured). The committed summaries (read-committed)
 * must be over {@value #MIN_SUMMARY_BYTES} bytes and hold exactly the latents the batch fired (its
 * FeatureBatch says which), and the SAE's statistics must count every token and every latent that
 * fired, with no dead letter.
 */
class LargeSummaryIT {

  private static final int D_IN = 16;
  private static final int D_SAE = 1 << 18;
  private static final int K = 1024;
  private static final int TOKENS = 128;
  private static final int RECORDS = 3;
  private static final String SAE = "wide";
  private static final int ONE_MIB = 1 << 20;

  /**
   * 1.5 MiB: clearly over the 1 MiB defaults, and 14 % under the measured sizes, so that the few
   * latents that may change at top-k near-ties (float rounding differs between CPUs) cannot matter.
   */
  private static final int MIN_SUMMARY_BYTES = 3 * ONE_MIB / 2;

  /** A FeatureBatch of this SAE is about 7 bytes per firing: 0.9 MB here, near the 1 MiB limit. */
  private static final int FEATURES_MAX_MESSAGE_BYTES = 8 * ONE_MIB;

  private static final Duration WINDOW = Duration.ofMinutes(1);
  private static final Duration DEADLINE = Duration.ofSeconds(40);

  @RegisterExtension static final ClusterPerClass CLUSTER = new ClusterPerClass();

  @TempDir Path dir;

  @Test
  void summariesOverOneMebibyteAreCommittedAndCountedInTheStatistics() throws Exception {
    long started = System.nanoTime();
    TopicNames topics = CLUSTER.get().createTopics("large", 1);
    raiseMaxMessageBytes(topics.features(), topics.deadLetter());
    String suffix = topics.activations().substring(topics.activations().lastIndexOf('.'));
    MonitoringSettings monitoring =
        MonitoringSettings.defaults()
            .withEnabled(true)
            .withTopics(
                "large.alerts" + suffix, "large.rules" + suffix, "large.aggregates" + suffix)
            .withStatsWindow(WINDOW);
    CLUSTER.get().createMonitoringTopics(monitoring.alertsTopic(), monitoring.rulesTopic());
    String appId = "sae-it-large-summary";
    Path stateDir = dir.resolve("state");
    StreamsAppConfig base =
        CLUSTER
            .get()
            .appConfig(
                appId,
                topics,
                stateDir,
                1,
                List.of(SaeDeployment.of(SAE, wideSae(dir.resolve("sae")))));
    StreamsAppConfig config =
        base.withMonitoring(monitoring)
            .withStreams(
                new StreamsSettings(
                    1,
                    // As a user would: records of this many tokens are accepted, longer ones are
                    // dead letters.
                    TOKENS,
                    stateDir,
                    base.streams().commitInterval(),
                    base.streams().shutdownTimeout()));

    // All records in one statistics window, which stays open (no later traffic moves the
    // watermark past it), so its totals are exactly these records'.
    long t0 = MonitoringFixtures.alignedStart(WINDOW, 5);
    Random random = new Random(2024);
    List<ActivationBatch> batches = new ArrayList<>();
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int r = 0; r < RECORDS; r++) {
      ActivationBatch batch = batch("long-" + r, random);
      batches.add(batch);
      records.add(MonitoringFixtures.record(CLUSTER.get(), topics.activations(), 0, batch, t0 + r));
    }

    try (StreamsApp app = CLUSTER.get().startApp(config)) {
      CLUSTER.get().produce(records);
      MonitoringQueries queries =
          new MonitoringQueries(monitoring, MonitoringStores.of(app.kafkaStreams()));
      await("every token of the " + RECORDS + " records in " + SAE + "'s statistics")
          .atMost(DEADLINE)
          .pollInterval(Duration.ofMillis(200))
          .failFast(
              "the app stopped with an error (its log above has the exception)",
              () -> app.failed() || app.kafkaStreams().state() == KafkaStreams.State.PENDING_ERROR)
          .ignoreException(InvalidStateStoreException.class)
          .until(
              () ->
                  queries.windows(SAE, 10).windows().stream()
                          .mapToLong(MonitoringQueries.WindowRow::tokens)
                          .sum()
                      == (long) RECORDS * TOKENS);

      // What each batch fired, from its FeatureBatch: latents with a positive activation.
      Map<String, TreeSet<Integer>> firedBySequence = new TreeMap<>();
      Map<Integer, Long> firingsByLatent = new HashMap<>();
      Map<String, Long> firingsBySequence = new HashMap<>();
      List<ConsumerRecord<String, FeatureBatch>> features =
          CLUSTER.get().readAll(topics.features(), FeatureBatch.class);
      assertThat(features).as("one FeatureBatch per record").hasSize(RECORDS);
      for (ConsumerRecord<String, FeatureBatch> f : features) {
        FeatureBatch b = f.value();
        TreeSet<Integer> fired = new TreeSet<>();
        long firings = 0;
        for (int i = 0; i < b.getLatentIndices().size(); i++) {
          if (b.getLatentValues().get(i) > 0) {
            int latent = b.getLatentIndices().get(i);
            fired.add(latent);
            firingsByLatent.merge(latent, 1L, Long::sum);
            firings++;
          }
        }
        firedBySequence.put(b.getSequenceId(), fired);
        firingsBySequence.put(b.getSequenceId(), firings);
      }

      // (a) The summaries, as a read-committed consumer of the aggregates topic sees them.
      List<ConsumerRecord<byte[], byte[]>> aggregates =
          CLUSTER.get().readAllBytes(monitoring.aggregatesTopic());
      assertThat(aggregates).as("one committed summary per record").hasSize(RECORDS);
      for (ConsumerRecord<byte[], byte[]> a : aggregates) {
        assertThat(new String(a.key(), StandardCharsets.UTF_8)).isEqualTo(SAE);
        DecodedSummary s = DecodedSummary.decode(a.value());
        System.out.printf(
            "LargeSummaryIT: summary of %s is %,d bytes: %,d latents, %,d firings,"
                + " %,d candidates%n",
            s.sequenceId(), a.value().length, s.latents().size(), s.firings(), s.candidates());
        assertThat(a.value().length)
            .as("summary of %s in bytes", s.sequenceId())
            .isGreaterThan(MIN_SUMMARY_BYTES);
        assertThat(s.saeId()).isEqualTo(SAE);
        assertThat(s.nTokens()).isEqualTo(TOKENS);
        List<Integer> fired =
            List.copyOf(firedBySequence.getOrDefault(s.sequenceId(), new TreeSet<>()));
        assertThat(s.latents()).as("latents of %s", s.sequenceId()).hasSize(fired.size());
        assertThat(firstDifference(s.latents(), fired))
            .as(
                "first entry where %s's latents differ from those its batch fired (-1: none)",
                s.sequenceId())
            .isEqualTo(-1);
        assertThat(s.firings()).isEqualTo(firingsBySequence.get(s.sequenceId()));
        assertThat(s.candidates()).as("candidate contexts travel").isPositive();
        ActivationBatch batch =
            batches.stream()
                .filter(x -> x.getSequenceId().equals(s.sequenceId()))
                .findFirst()
                .orElseThrow();
        assertThat(s.tokens()).as("the batch's text travels").isEqualTo(batch.getTokens());
      }

      // (b) The statistics account for every token and every latent that fired.
      List<MonitoringQueries.WindowRow> windows = queries.windows(SAE, 10).windows();
      assertThat(windows).hasSize(1);
      MonitoringQueries.WindowRow w = windows.get(0);
      long firings = firingsBySequence.values().stream().mapToLong(Long::longValue).sum();
      assertThat(w.tokens()).isEqualTo((long) RECORDS * TOKENS);
      assertThat(w.firingLatents()).isEqualTo(firingsByLatent.size());
      assertThat(w.deadLatents()).isEqualTo(D_SAE - firingsByLatent.size());
      // A ratio of two exact integers: only the division rounds.
      assertThat(w.meanL0()).isCloseTo((double) firings / w.tokens(), within(1e-9));
      long mostFirings =
          firingsByLatent.values().stream().mapToLong(Long::longValue).max().orElse(0);
      MonitoringQueries.TopLatents top = queries.topLatents(SAE, null, 1);
      assertThat(top.tokens()).isEqualTo((long) RECORDS * TOKENS);
      assertThat(top.latents().get(0).firings()).isEqualTo(mostFirings);
      assertThat(firingsByLatent.get(top.latents().get(0).latent())).isEqualTo(mostFirings);

      assertThat(CLUSTER.get().readAllBytes(topics.deadLetter())).as("dead letters").isEmpty();
      assertThat(app.failed()).isFalse();
    }
    System.out.printf(
        "LargeSummaryIT: %d records in %d ms%n",
        RECORDS, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
  }

  /** The first index where {@code a} and {@code b} differ, or -1 (both have the same size). */
  private static int firstDifference(List<Integer> a, List<Integer> b) {
    for (int i = 0; i < a.size(); i++) {
      if (!a.get(i).equals(b.get(i))) {
        return i;
      }
    }
    return -1;
  }

  /**
   * The topk SAE: encoder columns are unit vectors in random directions, so a token's top k are the
   * k latents closest to its direction and tokens in random directions fire mostly distinct
   * latents; the decoder is the encoder's transpose.
   */
  private static Path wideSae(Path saeDir) {
    Random random = new Random(42);
    float[] enc = new float[D_IN * D_SAE];
    float[] dec = new float[D_SAE * D_IN];
    float[] column = new float[D_IN];
    for (int j = 0; j < D_SAE; j++) {
      double norm = 0;
      for (int i = 0; i < D_IN; i++) {
        column[i] = (float) random.nextGaussian();
        norm += column[i] * column[i];
      }
      float scale = (float) (1 / Math.sqrt(norm));
      for (int i = 0; i < D_IN; i++) {
        enc[i * D_SAE + j] = column[i] * scale;
        dec[j * D_IN + i] = column[i] * scale;
      }
    }
    return MonitoringFixtures.writeSae(
        saeDir,
        "\"architecture\": \"topk\", \"k\": " + K + ", \"rescale_acts_by_decoder_norm\": false",
        D_IN,
        D_SAE,
        enc,
        dec);
  }

  /** {@value #TOKENS} tokens in random directions, with text. */
  private static ActivationBatch batch(String sequenceId, Random random) {
    ByteBuffer data =
        ByteBuffer.allocate(TOKENS * D_IN * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    List<String> text = new ArrayList<>();
    for (int t = 0; t < TOKENS; t++) {
      for (int i = 0; i < D_IN; i++) {
        data.putFloat((float) random.nextGaussian());
      }
      text.add(" word" + t);
    }
    data.flip();
    return ActivationBatches.builder(
            ActivationBatches.FIXTURE_MODEL,
            ActivationBatches.FIXTURE_HOOK,
            sequenceId,
            TOKENS,
            D_IN)
        .setDtype(Dtype.F32)
        .setData(data)
        .setTokens(text)
        .build();
  }

  /**
   * Lets {@code topics} take records up to {@link #FEATURES_MAX_MESSAGE_BYTES}, as a user serving
   * an SAE this wide must (the broker's default is 1 MiB): FeatureBatches are close to it, and dead
   * letters carry the original record.
   */
  private static void raiseMaxMessageBytes(String... topics) throws Exception {
    Map<ConfigResource, java.util.Collection<AlterConfigOp>> changes = new HashMap<>();
    for (String topic : topics) {
      changes.put(
          new ConfigResource(ConfigResource.Type.TOPIC, topic),
          List.of(
              new AlterConfigOp(
                  new ConfigEntry(
                      TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                      Integer.toString(FEATURES_MAX_MESSAGE_BYTES)),
                  AlterConfigOp.OpType.SET)));
    }
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, CLUSTER.get().bootstrapServers()))) {
      admin.incrementalAlterConfigs(changes).all().get(30, TimeUnit.SECONDS);
    }
  }
}
