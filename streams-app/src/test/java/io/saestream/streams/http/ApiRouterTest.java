package io.saestream.streams.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.saestream.streams.config.BearerToken;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Routing, auth, parameters, forwarding and merging of the API, over a fake instance. */
class ApiRouterTest {

  private static final String TOKEN = "s3cret-token-0123456789";
  private static final String AUTH = "Bearer " + TOKEN;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final FakeBackend backend = new FakeBackend();
  private final FakePeers peers = new FakePeers();
  private final List<String> assetRequests = new CopyOnWriteArrayList<>();
  private final StaticAssets assets =
      path -> {
        assetRequests.add(path);
        return path.isEmpty() || path.equals("static/app.js")
            ? Optional.of(
                new StaticAssets.Asset(
                    ("asset:" + path).getBytes(StandardCharsets.UTF_8), "text/javascript"))
            : Optional.empty();
      };

  private ApiRouter router(@Nullable BearerToken token) {
    return new ApiRouter(
        backend, peers, token, assets, () -> "# HELP up\nup 1\n", Duration.ofMillis(500));
  }

  private ApiRouter router() {
    return router(BearerToken.fromText(TOKEN));
  }

  private ApiResponse get(String pathAndQuery) {
    return router().handle(ApiRequest.get(pathAndQuery, AUTH));
  }

  private static JsonNode json(ApiResponse r) throws IOException {
    assertThat(r.contentType()).isEqualTo(ApiResponse.JSON);
    return JSON.readTree(r.body());
  }

  @Test
  void healthIsUpWithoutAToken() throws IOException {
    ApiResponse r = router().handle(ApiRequest.get("/health"));
    assertThat(r.status()).isEqualTo(200);
    assertThat(json(r).get("status").asText()).isEqualTo("UP");
  }

  @Test
  void readinessFollowsTheStreamsStateWithoutAToken() throws IOException {
    backend.state = new ApiBackend.InstanceState("REBALANCING", false);
    ApiResponse notReady = router().handle(ApiRequest.get("/ready"));
    assertThat(notReady.status()).isEqualTo(503);
    assertThat(json(notReady).get("status").asText()).isEqualTo("NOT_READY");
    assertThat(json(notReady).get("state").asText()).isEqualTo("REBALANCING");
    backend.state = new ApiBackend.InstanceState("RUNNING", true);
    ApiResponse ready = router().handle(ApiRequest.get("/ready"));
    assertThat(ready.status()).isEqualTo(200);
    assertThat(json(ready))
        .isEqualTo(JSON.readTree("{\"status\":\"READY\",\"state\":\"RUNNING\"}"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"/api/v1/overview", "/api/v1/alerts", "/metrics", "/api/v1/nope"})
  void apiAndMetricsRefuseMissingOrWrongTokensAndAcceptTheRightOne(String path) throws IOException {
    ApiResponse missing = router().handle(ApiRequest.get(path));
    assertThat(missing.status()).isEqualTo(401);
    assertThat(missing.headers()).containsKey("WWW-Authenticate");
    assertThat(json(missing).get("error").asText()).contains("Authorization: Bearer");
    ApiResponse wrong = router().handle(ApiRequest.get(path, "Bearer s3cret-token-0123456788"));
    assertThat(wrong.status()).isEqualTo(401);
    assertThat(router().handle(ApiRequest.get(path, "Basic " + TOKEN)).status()).isEqualTo(401);
    ApiResponse right = router().handle(ApiRequest.get(path, AUTH));
    assertThat(right.status()).isIn(200, 404);
    assertThat(right.status() == 404).isEqualTo(path.endsWith("nope"));
  }

  @Test
  void withoutATokenEverythingIsOpen() {
    assertThat(router(null).handle(ApiRequest.get("/api/v1/overview")).status()).isEqualTo(200);
    assertThat(router(null).handle(ApiRequest.get("/metrics")).status()).isEqualTo(200);
  }

  @Test
  void metricsServeTheScrapeAsPrometheusText() {
    ApiResponse r = get("/metrics");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.contentType()).isEqualTo(ApiResponse.PROMETHEUS);
    assertThat(r.bodyText()).isEqualTo("# HELP up\nup 1\n");
  }

  @Test
  void staticPathsGoToTheDashboardAssetsWithoutAToken() throws IOException {
    ApiResponse index = router().handle(ApiRequest.get("/"));
    assertThat(index.status()).isEqualTo(200);
    assertThat(index.bodyText()).isEqualTo("asset:");
    ApiResponse app = router().handle(ApiRequest.get("/static/app.js"));
    assertThat(app.contentType()).isEqualTo("text/javascript");
    ApiResponse missing = router().handle(ApiRequest.get("/static/missing.css"));
    assertThat(missing.status()).isEqualTo(404);
    assertThat(json(missing).get("error").asText()).contains("/static/missing.css");
    assertThat(assetRequests).containsExactly("", "static/app.js", "static/missing.css");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/static/../secret.txt",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2f..%2fetc/passwd",
        "/..",
        "/static/./app.js",
        "/static/a%5c..%5cb",
        "/api/v1/saes/..%2f..%2fx/windows",
        "/static/%00"
      })
  void pathTraversalIsRefusedBeforeAnyHandlerSeesThePath(String path) throws IOException {
    ApiResponse r = router().handle(ApiRequest.get(path, AUTH));
    assertThat(r.status()).isEqualTo(400);
    assertThat(json(r).get("error").asText()).startsWith("path");
    assertThat(assetRequests).isEmpty();
    assertThat(peers.requests).isEmpty();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "/api/v1/alerts?limit=abc|limit must be an integer in [1, 1000], was 'abc'",
        "/api/v1/alerts?limit=0|limit must be an integer in [1, 1000], was '0'",
        "/api/v1/alerts?limit=1001|limit must be an integer in [1, 1000], was '1001'",
        "/api/v1/saes/sae-a/windows?limit=-2|limit must be an integer in [1, 1000], was '-2'",
        "/api/v1/saes/sae-a/latents/top?window=yesterday|window must be a window start",
        "/api/v1/saes/sae-a/latents/top?limit=x|limit must be an integer",
        "/api/v1/saes/sae-a/latents/x|latent must be an integer >= 0, was 'x'",
        "/api/v1/saes/sae-a/latents/-1|latent must be an integer >= 0, was '-1'",
        "/api/v1/saes/sae-a/latents/3?windows=many|windows must be an integer in [1, 1000]",
        "/api/v1/overview?local=maybe|local must be true or false, was 'maybe'",
        "/api/v1/alerts?limit=1&limit=2|parameter limit must be given at most once",
        "/api/v1/alerts?limit=%zz|malformed query string"
      })
  void badParametersAre400sThatNameTheParameter(String path, String message) throws IOException {
    backend.owners.put("sae-a", new ApiBackend.Remote("10.0.0.2:8080"));
    ApiResponse r = get(path);
    assertThat(r.status()).isEqualTo(400);
    assertThat(json(r).get("error").asText()).startsWith(message);
    assertThat(peers.requests).as("validated before forwarding").isEmpty();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "/api/v1/saes/nope/windows|unknown sae 'nope'",
        "/api/v1/saes/sae-a/latents/16|sae 'sae-a' has no latent 16 (d_sae 16)",
        "/api/v1/saes/sae-a/everything|no route GET /api/v1/saes/sae-a/everything",
        "/api/v2/overview|no route GET /api/v2/overview",
        "/api/v1|no route GET /api/v1/"
      })
  void unknownSaesLatentsAndRoutesAre404s(String path, String message) throws IOException {
    ApiResponse r = get(path);
    assertThat(r.status()).isEqualTo(404);
    assertThat(json(r).get("error").asText()).isEqualTo(message);
  }

  @Test
  void onlyGetIsAllowed() {
    ApiResponse r = router().handle(new ApiRequest("POST", "/api/v1/alerts", null, AUTH));
    assertThat(r.status()).isEqualTo(405);
    assertThat(r.headers()).containsEntry("Allow", "GET");
  }

  @Test
  void saeQueriesAreAnsweredLocallyWhenThisInstanceOwnsTheKey() throws IOException {
    ApiResponse r = get("/api/v1/saes/sae-a/windows?limit=5");
    assertThat(r.status()).isEqualTo(200);
    assertThat(json(r))
        .isEqualTo(JSON.readTree("{\"sae_id\":\"sae-a\",\"window_ms\":60000,\"windows\":[]}"));
    JsonNode top = json(get("/api/v1/saes/sae-a/latents/top"));
    assertThat(top.get("window_start").isNull()).isTrue();
    JsonNode latent = json(get("/api/v1/saes/sae-a/latents/3?windows=2"));
    assertThat(latent.get("histogram").get("edges"))
        .hasSize(latent.get("histogram").get("counts").size() + 1);
    assertThat(peers.requests).isEmpty();
  }

  @Test
  void saeQueriesAreForwardedToTheOwnerWithLocalTrueAndItsAnswerPassedOn() {
    backend.owners.put("sae-a", new ApiBackend.Remote("10.0.0.2:8080"));
    peers.answers.put("10.0.0.2:8080", new PeerClient.PeerResponse(200, "{\"from\":\"owner\"}"));
    ApiResponse r = get("/api/v1/saes/sae-a/latents/top?limit=3&window=latest");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.bodyText()).isEqualTo("{\"from\":\"owner\"}");
    assertThat(peers.requests)
        .containsExactly(
            "10.0.0.2:8080 /api/v1/saes/sae-a/latents/top?limit=3&window=latest&local=true "
                + AUTH);
  }

  @Test
  void localTrueNeverForwards() {
    backend.owners.put("sae-a", new ApiBackend.Remote("10.0.0.2:8080"));
    assertThat(get("/api/v1/saes/sae-a/windows?local=true").status()).isEqualTo(200);
    assertThat(peers.requests).isEmpty();
  }

  @Test
  void anUnreachableOwnerIs502NamingIt() throws IOException {
    backend.owners.put("sae-a", new ApiBackend.Remote("10.0.0.9:8080"));
    ApiResponse r = get("/api/v1/saes/sae-a/windows");
    assertThat(r.status()).isEqualTo(502);
    assertThat(json(r).get("error").asText())
        .contains("the instance that owns sae 'sae-a' (10.0.0.9:8080) did not answer");
  }

  @Test
  void rebalancingAndUnqueryableStoresAre503s() throws IOException {
    backend.owners.put("sae-a", new ApiBackend.Unavailable("Kafka Streams is REBALANCING"));
    ApiResponse r = get("/api/v1/saes/sae-a/windows");
    assertThat(r.status()).isEqualTo(503);
    assertThat(r.headers()).containsEntry("Retry-After", "1");
    assertThat(json(r).get("error").asText()).contains("REBALANCING");

    backend.owners.clear();
    backend.state = new ApiBackend.InstanceState("REBALANCING", false);
    backend.stores =
        new io.saestream.streams.monitoring.MonitoringStores() {
          @Override
          public <V> org.apache.kafka.streams.state.ReadOnlyKeyValueStore<String, V> store(
              String name) {
            throw new InvalidStateStoreException("migrated");
          }
        };
    ApiResponse s = get("/api/v1/saes/sae-a/latents/top");
    assertThat(s.status()).isEqualTo(503);
    assertThat(json(s).get("error").asText()).contains("not queryable").contains("REBALANCING");
  }

  @Test
  void withMonitoringOffSaeQueriesAre404() throws IOException {
    backend.monitoring = false;
    ApiResponse r = get("/api/v1/saes/sae-a/windows");
    assertThat(r.status()).isEqualTo(404);
    assertThat(json(r).get("error").asText()).contains("monitoring.enabled is false");
  }

  @Test
  void alertFeedMergesEveryInstanceNewestFirstWithoutDuplicates() throws IOException {
    backend.alerts.add(FakeBackend.alert("burst/sae-a/seq-1/60000", "burst", 3_000));
    backend.alerts.add(FakeBackend.alert("rate/sae-a/60000", "rate", 1_000));
    backend.peers = List.of("10.0.0.2:8080", "10.0.0.3:8080");
    String peerAlerts =
        new String(
            ApiJson.write(
                Map.of(
                    "alerts",
                    List.of(
                        ApiJson.alert(
                            FakeBackend.alert("drift/sae-a/60000", "drift", 2_000), "drift"),
                        ApiJson.alert(
                            FakeBackend.alert("rate/sae-a/60000", "rate", 1_000), null)))),
            StandardCharsets.UTF_8);
    peers.answers.put("10.0.0.2:8080", new PeerClient.PeerResponse(200, peerAlerts));

    JsonNode feed = json(get("/api/v1/alerts?limit=10"));
    List<String> ids = new ArrayList<>();
    feed.get("alerts").forEach(a -> ids.add(a.get("alert_id").asText()));
    assertThat(ids)
        .containsExactly("burst/sae-a/seq-1/60000", "drift/sae-a/60000", "rate/sae-a/60000");
    assertThat(feed.get("unreachable")).hasSize(1);
    assertThat(feed.get("unreachable").get(0).asText()).isEqualTo("10.0.0.3:8080");
    assertThat(peers.requests)
        .containsExactlyInAnyOrder(
            "10.0.0.2:8080 /api/v1/alerts?limit=10&local=true " + AUTH,
            "10.0.0.3:8080 /api/v1/alerts?limit=10&local=true " + AUTH);
    assertThat(json(get("/api/v1/alerts?limit=1")).get("alerts")).hasSize(1);

    JsonNode burst = feed.get("alerts").get(0);
    assertThat(burst.get("rule_type").asText()).isEqualTo("latent-threshold");
    assertThat(burst.get("sequence_id").asText()).isEqualTo("seq-1");
    assertThat(burst.get("severity").asText()).isEqualTo("WARNING");
    assertThat(burst.get("sae_version").asLong()).isEqualTo(3);
    assertThat(burst.get("window_start").asLong()).isEqualTo(60_000);
    assertThat(burst.get("window_end").asLong()).isEqualTo(120_000);
    assertThat(burst.get("value").asDouble()).isEqualTo(12.0);
    assertThat(burst.get("threshold").asDouble()).isEqualTo(10.0);
    assertThat(burst.get("latents")).hasSize(1);
    assertThat(burst.get("created_at").asLong()).isEqualTo(3_000);
    assertThat(burst.get("message").asText())
        .isEqualTo("latent 5 reached 12.00 (threshold 10.00) in sequence seq-1");
    JsonNode context = burst.get("contexts").get(0);
    assertThat(context.get("position").asInt()).isEqualTo(7);
    assertThat(context.get("highlight").asInt()).isEqualTo(1);
    assertThat(context.get("tokens")).hasSize(3);
    JsonNode drift = feed.get("alerts").get(1);
    assertThat(drift.get("sequence_id").isNull()).as("per-SAE rule").isTrue();
  }

  @Test
  void localAlertFeedDoesNotFanOut() throws IOException {
    backend.peers = List.of("10.0.0.2:8080");
    backend.alerts.add(FakeBackend.alert("a", "burst", 1));
    assertThat(json(get("/api/v1/alerts?local=true")).get("alerts")).hasSize(1);
    assertThat(peers.requests).isEmpty();
  }

  @Test
  void overviewShowsThisInstanceAndSumsTheCluster() throws IOException {
    backend.peers = List.of("10.0.0.2:8080", "10.0.0.3:8080");
    peers.answers.put(
        "10.0.0.2:8080",
        new PeerClient.PeerResponse(
            200,
            "{\"tokens_total\":500,\"records_total\":5,\"dead_letters_total\":1,"
                + "\"alerts_total\":4,\"tokens_per_s\":25.0}"));
    JsonNode o = json(get("/api/v1/overview"));
    assertThat(o.get("instance").asText()).isEqualTo("127.0.0.1:1111");
    assertThat(o.get("state").asText()).isEqualTo("RUNNING");
    assertThat(o.get("uptime_s").asDouble()).isEqualTo(12.5);
    assertThat(o.get("tokens_total").asLong()).isEqualTo(1000);
    assertThat(o.get("tokens_per_s").asDouble()).isEqualTo(50.0);
    JsonNode sae = o.get("saes").get(0);
    assertThat(sae.get("sae_id").asText()).isEqualTo("sae-a");
    assertThat(sae.get("d_sae").asInt()).isEqualTo(16);
    assertThat(sae.get("k").asInt()).isEqualTo(4);
    assertThat(sae.get("hook_name").asText()).isEqualTo("blocks.0.hook_resid_post");
    JsonNode cluster = o.get("cluster");
    assertThat(cluster.get("instances").asInt()).isEqualTo(2);
    assertThat(cluster.get("tokens_total").asLong()).isEqualTo(1500);
    assertThat(cluster.get("records_total").asLong()).isEqualTo(15);
    assertThat(cluster.get("dead_letters_total").asLong()).isEqualTo(3);
    assertThat(cluster.get("alerts_total").asLong()).isEqualTo(5);
    assertThat(cluster.get("tokens_per_s").asDouble()).isEqualTo(75.0);
    assertThat(cluster.get("unreachable").get(0).asText()).isEqualTo("10.0.0.3:8080");
    assertThat(json(get("/api/v1/overview?local=true")).has("cluster")).isFalse();
  }

  @Test
  void aFailingBackendIsA500NotACrash() throws IOException {
    ApiBackend broken =
        new FakeBackend() {
          @Override
          public InstanceNumbers numbers() {
            throw new IllegalStateException("boom");
          }
        };
    ApiResponse r =
        new ApiRouter(broken, peers, null, assets, () -> "", Duration.ofMillis(100))
            .handle(ApiRequest.get("/api/v1/overview"));
    assertThat(r.status()).isEqualTo(500);
    assertThat(json(r).get("error").asText()).contains("boom");
  }

  /** Answers from {@link #answers}; unknown peers are unreachable. Records every request. */
  static final class FakePeers implements PeerClient {
    final Map<String, PeerResponse> answers = new ConcurrentHashMap<>();
    final List<String> requests = new CopyOnWriteArrayList<>();

    @Override
    public CompletableFuture<PeerResponse> get(
        String hostPort, String pathAndQuery, @Nullable String authorization) {
      requests.add(hostPort + " " + pathAndQuery + " " + authorization);
      PeerResponse r = answers.get(hostPort);
      return r == null
          ? CompletableFuture.failedFuture(
              new PeerUnreachableException(hostPort, new ConnectException("refused")))
          : CompletableFuture.completedFuture(r);
    }
  }
}
