package io.saestream.streams.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.saestream.streams.StreamsApp;
import io.saestream.streams.config.BearerToken;
import io.saestream.streams.config.HttpSettings;
import io.saestream.streams.config.MonitoringSettings;
import io.saestream.streams.config.SaeDeployment;
import io.saestream.streams.config.StreamsAppConfig;
import io.saestream.streams.config.TopicNames;
import io.saestream.streams.testing.ClusterPerClass;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two instances of the app (four partitions, HTTP on ephemeral ports, a bearer token) answer every
 * query of the HTTP API with the same JSON: an SAE's statistics live on the one instance that owns
 * its sae_id key, and the other forwards the query there; the alert feed and the cluster overview
 * are merged from both.
 */
class InteractiveQueriesIT {

  private static final Duration WINDOW = Duration.ofSeconds(10);
  private static final String TOKEN = "interactive-queries-it-token";
  private static final List<String> SAES = List.of("identity", "doubled");
  private static final Duration DEADLINE = Duration.ofSeconds(40);
  private static final ObjectMapper JSON = new ObjectMapper();

  @RegisterExtension static final ClusterPerClass CLUSTER = new ClusterPerClass();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @TempDir Path dir;

  @Test
  void everyQueryGivesTheSameAnswerFromEitherInstance() throws Exception {
    TopicNames topics = CLUSTER.get().createTopics("iq", 4);
    String suffix = topics.activations().substring(topics.activations().lastIndexOf('.'));
    MonitoringSettings monitoring =
        MonitoringSettings.defaults()
            .withEnabled(true)
            .withTopics("iq.alerts" + suffix, "iq.rules" + suffix, "iq.aggregates" + suffix)
            .withRulesFile(
                Files.writeString(
                    dir.resolve("rules.yaml"),
                    String.join(
                        "\n",
                        "rules:",
                        "  - id: burst",
                        "    type: latent-threshold",
                        "    sae-id: identity",
                        "    latent: " + MonitoringFixtures.BURST_LATENT,
                        "    min-activation: 5.0",
                        "    min-tokens: 3",
                        "    window: 10s",
                        "  - id: burst-doubled",
                        "    type: latent-threshold",
                        "    sae-id: doubled",
                        "    latent: " + MonitoringFixtures.BURST_LATENT,
                        "    min-activation: 10.0",
                        "    min-tokens: 3",
                        "    window: 10s",
                        ""),
                    StandardCharsets.UTF_8))
            .withStatsWindow(WINDOW)
            .withWindowGrace(Duration.ofSeconds(2));
    CLUSTER.get().createMonitoringTopics(monitoring.alertsTopic(), monitoring.rulesTopic());
    List<SaeDeployment> deployments =
        List.of(
            SaeDeployment.of("identity", MonitoringFixtures.identitySae(dir.resolve("sae-1"), 1f)),
            SaeDeployment.of("doubled", MonitoringFixtures.identitySae(dir.resolve("sae-2"), 2f)));
    HttpSettings httpSettings =
        HttpSettings.ephemeral().withBearerToken(BearerToken.fromText(TOKEN));
    String appId = "sae-it-queries";
    StreamsApp a =
        CLUSTER.get().startApp(config(appId, topics, deployments, monitoring, httpSettings, "a"));
    StreamsApp b =
        CLUSTER.get().startApp(config(appId, topics, deployments, monitoring, httpSettings, "b"));
    String hostA = "127.0.0.1:" + a.httpPort().orElseThrow();
    String hostB = "127.0.0.1:" + b.httpPort().orElseThrow();
    await()
        .atMost(DEADLINE)
        .untilAsserted(
            () -> {
              assertThat(a.kafkaStreams().state()).isEqualTo(KafkaStreams.State.RUNNING);
              assertThat(b.kafkaStreams().state()).isEqualTo(KafkaStreams.State.RUNNING);
              assertThat(activeTasks(a)).isPositive();
              assertThat(activeTasks(b)).isPositive();
              assertThat(get(hostA, "/ready").statusCode()).isEqualTo(200);
              assertThat(get(hostB, "/ready").statusCode()).isEqualTo(200);
            });

    long t0 = MonitoringFixtures.alignedStart(WINDOW, 20);
    Random random = new Random(11);
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      for (int s = 0; s < 16; s++) {
        String sequence = "w" + w + "-s" + s;
        MonitoringFixtures.Kind kind =
            w == 1 && s == 3 ? MonitoringFixtures.Kind.BURST : MonitoringFixtures.Kind.NORMAL;
        records.add(
            MonitoringFixtures.record(
                CLUSTER.get(),
                topics.activations(),
                s % 4,
                MonitoringFixtures.batch(sequence, kind, random),
                t0 + w * WINDOW.toMillis() + s * 300L));
      }
    }
    CLUSTER.get().produce(records);
    long tokens = (long) records.size() * MonitoringFixtures.TOKENS;
    await()
        .atMost(DEADLINE)
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(
            () -> {
              for (String sae : SAES) {
                JsonNode windows = json(get(hostA, "/api/v1/saes/" + sae + "/windows"));
                long seen = 0;
                for (JsonNode w : windows.get("windows")) {
                  seen += w.get("tokens").asLong();
                }
                assertThat(seen).as("tokens in %s's statistics", sae).isEqualTo(tokens);
              }
              assertThat(json(get(hostA, "/api/v1/alerts")).get("alerts")).hasSize(2);
            });

    List<String> paths = new ArrayList<>(List.of("/api/v1/alerts", "/api/v1/alerts?limit=1"));
    for (String sae : SAES) {
      paths.add("/api/v1/saes/" + sae + "/windows");
      paths.add("/api/v1/saes/" + sae + "/windows?limit=2");
      paths.add("/api/v1/saes/" + sae + "/latents/top");
      paths.add("/api/v1/saes/" + sae + "/latents/top?limit=3&window=" + (t0 + WINDOW.toMillis()));
      paths.add("/api/v1/saes/" + sae + "/latents/0?windows=3");
      paths.add("/api/v1/saes/" + sae + "/latents/" + MonitoringFixtures.BURST_LATENT);
    }
    for (String path : paths) {
      JsonNode fromA = json(get(hostA, path));
      JsonNode fromB = json(get(hostB, path));
      assertThat(fromB).as("GET %s from either instance", path).isEqualTo(fromA);
    }

    // Each SAE's statistics live on exactly one instance; the other forwarded its queries.
    for (String sae : SAES) {
      String path = "/api/v1/saes/" + sae + "/windows?local=true";
      int local =
          (json(get(hostA, path)).get("windows").isEmpty() ? 0 : 1)
              + (json(get(hostB, path)).get("windows").isEmpty() ? 0 : 1);
      assertThat(local).as("instances holding %s", sae).isEqualTo(1);
    }

    JsonNode window = json(get(hostB, "/api/v1/saes/identity/windows")).get("windows").get(2);
    assertThat(fieldNames(window))
        .containsExactlyInAnyOrder(
            "window_start",
            "tokens",
            "fvu",
            "mean_relative_error",
            "mean_l0",
            "firing_latents",
            "dead_latents",
            "dense_latents");
    assertThat(window.get("mean_l0").asDouble())
        .as("window 2: latents 0-3 on every token")
        .isEqualTo(4.0);
    assertThat(window.get("fvu").asDouble()).isLessThan(1e-6);
    JsonNode top =
        json(get(hostB, "/api/v1/saes/identity/latents/top?window=" + (t0 + WINDOW.toMillis())));
    assertThat(fieldNames(top.get("latents").get(0)))
        .containsExactlyInAnyOrder(
            "latent", "firings", "density", "mean_activation", "max_activation", "top_context");
    assertThat(fieldNames(top.get("latents").get(0).get("top_context")))
        .containsExactlyInAnyOrder(
            "sequence_id", "position", "activation", "window_start", "tokens", "highlight");
    assertThat(top.get("tokens").asLong()).isEqualTo(16L * MonitoringFixtures.TOKENS);
    assertThat(top.get("latents").get(0).get("firings").asLong())
        .as("latents 0-3 fire on every token")
        .isEqualTo(16L * MonitoringFixtures.TOKENS);
    JsonNode burst =
        json(get(hostA, "/api/v1/saes/doubled/latents/" + MonitoringFixtures.BURST_LATENT));
    long burstCount = 0;
    for (JsonNode c : burst.get("histogram").get("counts")) {
      burstCount += c.asLong();
    }
    assertThat(burstCount).isEqualTo(4);
    assertThat(burst.get("contexts").get(0).get("activation").asDouble())
        .isEqualTo(
            2 * MonitoringFixtures.BURST_VALUE, org.assertj.core.api.Assertions.within(1e-5));
    assertThat(burst.get("contexts").get(0).get("sequence_id").asText()).isEqualTo("w1-s3");

    JsonNode overviewA = json(get(hostA, "/api/v1/overview"));
    JsonNode overviewB = json(get(hostB, "/api/v1/overview"));
    assertThat(overviewA.get("instance").asText()).isEqualTo(hostA);
    assertThat(overviewB.get("instance").asText()).isEqualTo(hostB);
    assertThat(stable(overviewB.get("cluster"))).isEqualTo(stable(overviewA.get("cluster")));
    assertThat(overviewA.get("cluster").get("instances").asInt()).isEqualTo(2);
    assertThat(overviewA.get("cluster").get("tokens_total").asLong()).isEqualTo(tokens);
    assertThat(overviewA.get("cluster").get("alerts_total").asLong()).isEqualTo(2);
    assertThat(overviewB.get("saes")).isEqualTo(overviewA.get("saes"));

    assertThat(get(hostA, "/api/v1/overview", null).statusCode()).isEqualTo(401);
    HttpResponse<String> index = get(hostA, "/", null);
    assertThat(index.statusCode()).as("the dashboard needs no token").isEqualTo(200);
    assertThat(index.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
    HttpResponse<String> metrics = get(hostB, "/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body()).contains("jvm_memory");
    assertThat(get(hostB, "/metrics", null).statusCode()).isEqualTo(401);
    a.close();
    b.close();
  }

  private StreamsAppConfig config(
      String appId,
      TopicNames topics,
      List<SaeDeployment> deployments,
      MonitoringSettings monitoring,
      HttpSettings http,
      String instance) {
    return CLUSTER
        .get()
        .appConfig(appId, topics, dir.resolve("state-" + instance), 1, deployments)
        .withMonitoring(monitoring)
        .withHttp(http);
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  /** The cluster numbers without the rate, which moves with the clock. */
  private static JsonNode stable(JsonNode numbers) {
    ObjectNode copy = numbers.deepCopy();
    copy.remove("tokens_per_s");
    return copy;
  }

  private static int activeTasks(StreamsApp app) {
    return app.kafkaStreams().metadataForLocalThreads().stream()
        .mapToInt(t -> t.activeTasks().size())
        .sum();
  }

  private HttpResponse<String> get(String host, String path) throws Exception {
    return get(host, path, "Bearer " + TOKEN);
  }

  private HttpResponse<String> get(String host, String path, @Nullable String auth)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://" + host + path)).timeout(Duration.ofSeconds(5));
    if (auth != null) {
      request.header("Authorization", auth);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode json(HttpResponse<String> response) throws Exception {
    assertThat(response.statusCode()).as("%s: %s", response.uri(), response.body()).isEqualTo(200);
    return JSON.readTree(response.body());
  }
}
