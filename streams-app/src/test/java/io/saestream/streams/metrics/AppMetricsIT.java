package io.saestream.streams.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.saestream.schema.checkpoint.CheckpointTopic;
import io.saestream.schema.v1.ActivationBatch;
import io.saestream.streams.StreamsApp;
import io.saestream.streams.config.CheckpointSettings;
import io.saestream.streams.config.SaeDeployment;
import io.saestream.streams.config.StreamsAppConfig;
import io.saestream.streams.config.TopicNames;
import io.saestream.streams.errors.DeadLetterReason;
import io.saestream.streams.registry.SaeLoader;
import io.saestream.streams.testing.ActivationBatches;
import io.saestream.streams.testing.ClusterPerClass;
import io.saestream.streams.testing.SaeLensFixtures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link AppMetrics} bound to a running app on a real broker that follows checkpoints: the scrape
 * carries the documented sae-stream meters with their labels and values, the Kafka Streams metrics
 * exported by Micrometer's binder (our custom sensors and the consumers' records-lag-max among
 * them), and the version gauge follows a swap.
 */
class AppMetricsIT {

  private static final int D_IN = 32;
  private static final int TOKENS = 4;
  private static final Duration DEADLINE = Duration.ofSeconds(60);

  @RegisterExtension static final ClusterPerClass CLUSTER = new ClusterPerClass();

  @TempDir Path tmp;

  @Test
  void aRunningAppExportsThroughputDeadLettersLatencyLagSwapsAndVersions() throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    TopicNames topics = CLUSTER.get().createTopics("metrics", 1);
    String checkpoints = "metrics.checkpoints." + suffix;
    CLUSTER.get().createTopics(List.of(CheckpointTopic.newTopic(checkpoints, 1, (short) 1)));
    String appId = "metrics-" + suffix;
    StreamsAppConfig config =
        CLUSTER
            .get()
            .appConfig(appId, topics, tmp.resolve("state"), 1, List.of(deployment(3)))
            .withCheckpoints(CheckpointSettings.following(checkpoints));
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      records.add(record(topics, good(i)));
    }
    float[] nan = ActivationBatches.values(TOKENS, D_IN, 99);
    nan[7] = Float.POSITIVE_INFINITY;
    records.add(record(topics, ActivationBatches.f32("inf-1", TOKENS, D_IN, nan)));
    records.add(record(topics, ActivationBatches.f32("inf-2", TOKENS, D_IN, nan)));
    records.add(
        new ProducerRecord<>(
            topics.activations(), "junk".getBytes(StandardCharsets.UTF_8), new byte[] {1, 2, 3}));

    try (StreamsApp app = CLUSTER.get().startApp(config)) {
      AppMetrics metrics =
          AppMetrics.bind(
              app.kafkaStreams(),
              app.registry(),
              app.checkpointFollower().orElseThrow().metrics(),
              Duration.ofMillis(200));
      try {
        CLUSTER.get().produce(records);
        await()
            .atMost(DEADLINE)
            .pollInterval(Duration.ofMillis(200))
            .until(
                () ->
                    CLUSTER.get().committedOffsets(appId, topics.activations()) == records.size());

        // The binder picks up sensors created after binding at its next refresh.
        await()
            .atMost(DEADLINE)
            .pollInterval(Duration.ofMillis(200))
            .untilAsserted(
                () -> {
                  PrometheusSamples scrape = PrometheusSamples.parse(metrics.scrape());
                  assertThat(scrape.has("kafka_stream_sae_dead_letter_dead_letter_total")).isTrue();
                  assertThat(scrape.has("kafka_stream_sae_inference_inference_latency_avg"))
                      .isTrue();
                  assertThat(scrape.has("kafka_consumer_fetch_manager_records_lag_max")).isTrue();
                });
        String text = metrics.scrape();
        PrometheusSamples scrape = PrometheusSamples.parse(text);
        // For whoever documents or debugs the names: the whole scrape of a running app.
        Files.writeString(Path.of("target", "app-metrics-scrape.txt"), text);

        assertThat(dead(scrape, DeadLetterReason.NON_FINITE_VALUES)).isEqualTo(2.0);
        assertThat(dead(scrape, DeadLetterReason.UNDECODABLE)).isEqualTo(1.0);
        assertThat(dead(scrape, DeadLetterReason.D_IN_MISMATCH)).isZero();
        assertThat(metrics.deadLettersTotal()).isEqualTo(3);
        assertThat(scrape.value("sae_inference_calls_total", Map.of("sae_id", "topk")))
            .isEqualTo(6.0);
        assertThat(scrape.value("sae_inference_latency_max_seconds", Map.of("sae_id", "topk")))
            .isPositive();
        assertThat(scrape.value("sae_consumer_records_lag_max"))
            .as("caught up with the input")
            .isZero();
        assertThat(
                scrape.find(
                    "kafka_stream_sae_dead_letter_dead_letter_total",
                    Map.of("reason", DeadLetterReason.NON_FINITE_VALUES.tagValue())))
            .extracting(PrometheusSamples.Sample::value)
            .containsExactly(2.0);
        assertThat(
                scrape.find(
                    "kafka_stream_sae_inference_inference_latency_avg",
                    Map.of("sae_inference_id", "topk")))
            .isNotEmpty();
        assertThat(scrape.value("sae_checkpoint_swaps_total", Map.of("sae_id", "topk"))).isZero();
        assertThat(scrape.value("sae_checkpoint_rejected_total", Map.of("reason", "bad-sha256")))
            .isZero();
        assertThat(scrape.value("sae_model_version", Map.of("sae_id", "topk"))).isEqualTo(3.0);

        app.registry().swap(new SaeLoader(app.engine()).load(deployment(4)));

        assertThat(
                PrometheusSamples.parse(metrics.scrape())
                    .value("sae_model_version", Map.of("sae_id", "topk")))
            .isEqualTo(4.0);
      } finally {
        metrics.close();
      }
      assertThatThrownBy(metrics::scrape).isInstanceOf(IllegalStateException.class);
    }
  }

  private static double dead(PrometheusSamples scrape, DeadLetterReason reason) {
    return scrape.value("sae_dead_letters_total", Map.of("reason", reason.tagValue()));
  }

  private static SaeDeployment deployment(long version) {
    return new SaeDeployment(
        "topk", SaeLensFixtures.saeDir("topk_rescale_folded"), null, null, null, version);
  }

  private static ActivationBatch good(int i) {
    return ActivationBatches.f32(
        "seq-" + i, TOKENS, D_IN, ActivationBatches.values(TOKENS, D_IN, i));
  }

  private static ProducerRecord<byte[], byte[]> record(TopicNames topics, ActivationBatch batch) {
    return new ProducerRecord<>(
        topics.activations(),
        batch.getSequenceId().getBytes(StandardCharsets.UTF_8),
        CLUSTER.get().encode(topics.activations(), batch));
  }
}
