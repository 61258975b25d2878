package io.saestream.streams.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.saestream.schema.v1.FeatureAlert;
import io.saestream.streams.config.BearerToken;
import io.saestream.streams.monitoring.MonitoringQueries;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API of one instance (see {@code http-contract.md} and the streams-app README): routes a
 * request to its handler, checks the bearer token, validates parameters (400 naming the parameter),
 * answers interactive queries about an SAE locally when this instance owns the SAE's key and
 * otherwise forwards them to the owner with {@code local=true} (502 when the owner cannot be
 * reached, 503 while nobody can answer), and merges the alert feed and overview of every instance.
 * Paths with {@code ..} segments are refused before anything else looks at them.
 *
 * <p>Stateless apart from its collaborators; thread-safe, called by the server's worker threads.
 */
public final class ApiRouter {

  /** Largest {@code limit}/{@code windows} accepted. */
  static final int MAX_LIMIT = 1000;

  private static final Logger LOG = LoggerFactory.getLogger(ApiRouter.class);

  private final ApiBackend backend;
  private final PeerClient peers;
  private final @Nullable BearerToken token;
  private final StaticAssets assets;
  private final Supplier<String> metrics;
  private final Duration forwardTimeout;

  /**
   * A router.
   *
   * @param backend this instance
   * @param peers reaches the other instances
   * @param token the bearer token of {@code /api/**} and {@code /metrics}, or null for none
   * @param assets the dashboard's files
   * @param metrics the Prometheus scrape of {@code /metrics}
   * @param forwardTimeout how long to wait for another instance
   */
  public ApiRouter(
      ApiBackend backend,
      PeerClient peers,
      @Nullable BearerToken token,
      StaticAssets assets,
      Supplier<String> metrics,
      Duration forwardTimeout) {
    this.backend = Objects.requireNonNull(backend, "backend");
    this.peers = Objects.requireNonNull(peers, "peers");
    this.token = token;
    this.assets = Objects.requireNonNull(assets, "assets");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.forwardTimeout = Objects.requireNonNull(forwardTimeout, "forwardTimeout");
  }

  /** Answers {@code request}; never throws. */
  public ApiResponse handle(ApiRequest request) {
    try {
      return route(request);
    } catch (ApiException e) {
      return new ApiResponse(
          e.status(), ApiResponse.JSON, ApiJson.error(e.getMessage()), e.headers());
    } catch (InvalidStateStoreException e) {
      LOG.debug("Stores not queryable for {}", request.rawPath(), e);
      return new ApiResponse(
          503,
          ApiResponse.JSON,
          ApiJson.error(
              "statistics are not queryable on this instance now (Kafka Streams "
                  + backend.state().state()
                  + ", rebalancing or restoring); retry shortly"),
          Map.of("Retry-After", "1"));
    } catch (RuntimeException e) {
      LOG.warn("Request {} {} failed", request.method(), request.rawPath(), e);
      return ApiResponse.json(500, ApiJson.error("internal error: " + e));
    }
  }

  private ApiResponse route(ApiRequest request) {
    if (!request.method().equals("GET")) {
      throw new ApiException(
          405, "only GET is supported, was " + request.method(), Map.of("Allow", "GET"));
    }
    List<String> segments = segments(request.rawPath());
    String path = "/" + String.join("/", segments);
    switch (path) {
      case "/health" -> {
        ObjectNode n = ApiJson.object();
        n.put("status", "UP");
        return ApiResponse.json(200, ApiJson.write(n));
      }
      case "/ready" -> {
        ApiBackend.InstanceState state = backend.state();
        ObjectNode n = ApiJson.object();
        n.put("status", state.ready() ? "READY" : "NOT_READY");
        n.put("state", state.state());
        return ApiResponse.json(state.ready() ? 200 : 503, ApiJson.write(n));
      }
      case "/metrics" -> {
        authorize(request);
        return ApiResponse.text(200, ApiResponse.PROMETHEUS, metrics.get());
      }
      default -> {
        // Handled below.
      }
    }
    if (segments.size() >= 2 && segments.get(0).equals("api") && segments.get(1).equals("v1")) {
      authorize(request);
      return api(segments.subList(2, segments.size()), request);
    }
    if (segments.size() >= 1 && segments.get(0).equals("api")) {
      authorize(request);
      throw ApiException.notFound("no route GET " + path);
    }
    StaticAssets.Asset asset =
        assets
            .resolve(path.substring(1))
            .orElseThrow(() -> ApiException.notFound("no such file " + path));
    return new ApiResponse(200, asset.contentType(), asset.body(), Map.of());
  }

  private ApiResponse api(List<String> route, ApiRequest request) {
    QueryParameters params = QueryParameters.parse(request.rawQuery());
    boolean local = params.bool("local", false);
    if (route.equals(List.of("overview"))) {
      return overview(request, local);
    }
    if (route.equals(List.of("alerts"))) {
      return alerts(request, params, local);
    }
    if (route.size() >= 3 && route.get(0).equals("saes")) {
      String saeId = route.get(1);
      List<String> rest = route.subList(2, route.size());
      if (rest.equals(List.of("windows"))) {
        int limit = params.integer("limit", 60, 1, MAX_LIMIT);
        return sae(saeId, request, params, local, q -> q.windows(saeId, limit));
      }
      if (rest.equals(List.of("latents", "top"))) {
        int limit = params.integer("limit", 20, 1, MAX_LIMIT);
        Long window = window(params);
        return sae(saeId, request, params, local, q -> q.topLatents(saeId, window, limit));
      }
      if (rest.size() == 2 && rest.get(0).equals("latents")) {
        int latent = latent(rest.get(1));
        int windows = params.integer("windows", 30, 1, MAX_LIMIT);
        ApiBackend.SaeInfo info = knownSae(saeId);
        if (latent >= info.dSae()) {
          throw ApiException.notFound(
              "sae '" + saeId + "' has no latent " + latent + " (d_sae " + info.dSae() + ")");
        }
        return sae(saeId, request, params, local, q -> q.latent(saeId, latent, windows));
      }
    }
    throw ApiException.notFound("no route GET /api/v1/" + String.join("/", route));
  }

  // ---- SAE queries --------------------------------------------------------------------------

  private ApiResponse sae(
      String saeId,
      ApiRequest request,
      QueryParameters params,
      boolean local,
      Function<MonitoringQueries, Object> query) {
    knownSae(saeId);
    if (!backend.monitoring()) {
      throw ApiException.notFound("latent statistics are off (monitoring.enabled is false)");
    }
    if (!local) {
      ApiBackend.Owner owner = backend.locate(saeId);
      if (owner instanceof ApiBackend.Unavailable u) {
        throw ApiException.unavailable(
            "statistics of sae '"
                + saeId
                + "' are not queryable now ("
                + u.reason()
                + "); retry shortly");
      }
      if (owner instanceof ApiBackend.Remote r) {
        return forward(saeId, r.hostPort(), request, params);
      }
    }
    return ApiResponse.json(200, ApiJson.write(query.apply(backend.queries())));
  }

  private ApiResponse forward(
      String saeId, String hostPort, ApiRequest request, QueryParameters params) {
    String pathAndQuery = request.rawPath() + "?" + params.with("local", "true");
    try {
      PeerClient.PeerResponse r = await(peers.get(hostPort, pathAndQuery, request.authorization()));
      return ApiResponse.json(r.status(), r.body().getBytes(StandardCharsets.UTF_8));
    } catch (PeerClient.PeerUnreachableException e) {
      throw new ApiException(
          502,
          "the instance that owns sae '"
              + saeId
              + "' ("
              + hostPort
              + ") did not answer: "
              + Objects.requireNonNullElse(e.getCause(), e));
    }
  }

  private ApiBackend.SaeInfo knownSae(String saeId) {
    return backend
        .sae(saeId)
        .orElseThrow(() -> ApiException.notFound("unknown sae '" + saeId + "'"));
  }

  private static @Nullable Long window(QueryParameters params) {
    String text = params.get("window");
    if (text == null || text.equals("latest")) {
      return null;
    }
    try {
      return Long.parseLong(text.trim());
    } catch (NumberFormatException e) {
      throw ApiException.badRequest(
          "window must be a window start in ms since the epoch or 'latest', was '" + text + "'");
    }
  }

  private static int latent(String text) {
    try {
      int latent = Integer.parseInt(text);
      if (latent >= 0) {
        return latent;
      }
    } catch (NumberFormatException e) {
      // Falls through to the message below.
    }
    throw ApiException.badRequest("latent must be an integer >= 0, was '" + text + "'");
  }

  // ---- alert feed ---------------------------------------------------------------------------

  private ApiResponse alerts(ApiRequest request, QueryParameters params, boolean local) {
    int limit = params.integer("limit", 50, 1, MAX_LIMIT);
    Map<String, JsonNode> byId = new LinkedHashMap<>();
    for (FeatureAlert a : backend.recentAlerts(limit)) {
      byId.putIfAbsent(a.getAlertId(), ApiJson.alert(a, backend.ruleType(a.getRuleId())));
    }
    List<String> unreachable = new ArrayList<>();
    if (!local) {
      String query = "/api/v1/alerts?" + params.with("local", "true");
      for (Map.Entry<String, Optional<JsonNode>> peer :
          fanOut(query, request, unreachable).entrySet()) {
        peer.getValue()
            .map(n -> n.path("alerts"))
            .ifPresent(arr -> arr.forEach(a -> byId.putIfAbsent(a.path("alert_id").asText(), a)));
      }
    }
    List<JsonNode> merged = new ArrayList<>(byId.values());
    merged.sort(
        Comparator.comparingLong((JsonNode a) -> a.path("created_at").asLong())
            .reversed()
            .thenComparing(a -> a.path("alert_id").asText()));
    ObjectNode out = ApiJson.object();
    ArrayNode arr = out.putArray("alerts");
    merged.stream().limit(limit).forEach(arr::add);
    if (!unreachable.isEmpty()) {
      ArrayNode u = out.putArray("unreachable");
      unreachable.forEach(u::add);
    }
    return ApiResponse.json(200, ApiJson.write(out));
  }

  // ---- overview -----------------------------------------------------------------------------

  private ApiResponse overview(ApiRequest request, boolean local) {
    ApiBackend.InstanceNumbers n = backend.numbers();
    ObjectNode out = ApiJson.object();
    out.put("instance", backend.self());
    out.put("state", backend.state().state());
    out.put("uptime_s", n.uptimeSeconds());
    putNumbers(
        out,
        n.tokensTotal(),
        n.recordsTotal(),
        n.deadLettersTotal(),
        n.alertsTotal(),
        n.tokensPerSecond());
    ArrayNode saes = out.putArray("saes");
    backend.saes().forEach(s -> saes.add(ApiJson.MAPPER.valueToTree(s)));
    if (!local) {
      List<String> unreachable = new ArrayList<>();
      long tokens = n.tokensTotal();
      long records = n.recordsTotal();
      long deadLetters = n.deadLettersTotal();
      long alerts = n.alertsTotal();
      double rate = n.tokensPerSecond();
      int instances = 1;
      for (Optional<JsonNode> peer :
          fanOut("/api/v1/overview?local=true", request, unreachable).values()) {
        if (peer.isEmpty()) {
          continue;
        }
        JsonNode p = peer.get();
        instances++;
        tokens += p.path("tokens_total").asLong();
        records += p.path("records_total").asLong();
        deadLetters += p.path("dead_letters_total").asLong();
        alerts += p.path("alerts_total").asLong();
        rate += p.path("tokens_per_s").asDouble();
      }
      ObjectNode cluster = out.putObject("cluster");
      cluster.put("instances", instances);
      putNumbers(cluster, tokens, records, deadLetters, alerts, rate);
      ArrayNode u = cluster.putArray("unreachable");
      unreachable.forEach(u::add);
    }
    return ApiResponse.json(200, ApiJson.write(out));
  }

  private static void putNumbers(
      ObjectNode n, long tokens, long records, long deadLetters, long alerts, double rate) {
    n.put("tokens_total", tokens);
    n.put("records_total", records);
    n.put("dead_letters_total", deadLetters);
    n.put("alerts_total", alerts);
    n.put("tokens_per_s", rate);
  }

  // ---- plumbing -----------------------------------------------------------------------------

  /**
   * GETs {@code pathAndQuery} from every peer in parallel; a peer that fails or answers non-200 is
   * added to {@code unreachable} and maps to empty.
   */
  private Map<String, Optional<JsonNode>> fanOut(
      String pathAndQuery, ApiRequest request, List<String> unreachable) {
    Map<String, CompletableFuture<PeerClient.PeerResponse>> pending = new LinkedHashMap<>();
    for (String peer : backend.peers()) {
      pending.put(peer, peers.get(peer, pathAndQuery, request.authorization()));
    }
    Map<String, Optional<JsonNode>> answers = new LinkedHashMap<>();
    for (Map.Entry<String, CompletableFuture<PeerClient.PeerResponse>> e : pending.entrySet()) {
      Optional<JsonNode> answer = Optional.empty();
      try {
        PeerClient.PeerResponse r = await(e.getValue());
        if (r.status() == 200) {
          answer = Optional.of(ApiJson.read(r.body()));
        } else {
          LOG.debug("Peer {} answered {} to {}", e.getKey(), r.status(), pathAndQuery);
        }
      } catch (PeerClient.PeerUnreachableException | java.io.UncheckedIOException ex) {
        LOG.debug("Peer {} failed on {}", e.getKey(), pathAndQuery, ex);
      }
      if (answer.isEmpty()) {
        unreachable.add(e.getKey());
      }
      answers.put(e.getKey(), answer);
    }
    return answers;
  }

  private PeerClient.PeerResponse await(CompletableFuture<PeerClient.PeerResponse> future) {
    try {
      // The client's own timeout normally ends the call; this bounds a misbehaving one.
      return future.get(2 * forwardTimeout.toMillis() + 100, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof PeerClient.PeerUnreachableException u) {
        throw u;
      }
      throw new PeerClient.PeerUnreachableException(
          "peer", Objects.requireNonNullElse(e.getCause(), e));
    } catch (TimeoutException e) {
      future.cancel(true);
      throw new PeerClient.PeerUnreachableException("peer", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiException(503, "interrupted while waiting for another instance");
    }
  }

  private void authorize(ApiRequest request) {
    BearerToken t = token;
    if (t != null && !t.admits(request.authorization())) {
      throw new ApiException(
          401,
          request.authorization() == null
              ? "this endpoint needs an Authorization: Bearer <token> header"
              : "the bearer token is not valid",
          Map.of("WWW-Authenticate", "Bearer realm=\"sae-stream\""));
    }
  }

  /**
   * The decoded segments of {@code rawPath}; refuses '..' and '.' segments, encoded slashes and
   * control characters, so that no handler ever sees a path that climbs out of its root.
   */
  static List<String> segments(String rawPath) {
    if (!rawPath.startsWith("/")) {
      throw ApiException.badRequest("path must start with '/', was '" + rawPath + "'");
    }
    String body = rawPath.substring(1);
    if (body.isEmpty()) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    for (String raw : body.split("/", -1)) {
      String s;
      try {
        // Path segments are percent-encoded; '+' is a plus, not a space.
        s = URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        throw ApiException.badRequest("malformed path segment '" + raw + "'");
      }
      if (s.equals("..") || s.equals(".")) {
        throw ApiException.badRequest("path must not contain '.' or '..' segments");
      }
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f) {
          throw ApiException.badRequest(
              "path segment must not contain '/', '\\' or control characters");
        }
      }
      out.add(s);
    }
    return out;
  }
}
