package io.saestream.streams.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.streams.config.BearerToken;
import io.saestream.streams.config.HttpSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The JDK server over real sockets: binding, auth, traversal, forwarding between two servers. */
class HttpApiServerTest {

  private static final String TOKEN = "another-s3cret-token-42";

  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final FakeBackend backend = new FakeBackend();
  private HttpApiServer server;
  private ApiRouter router;

  @BeforeEach
  void start() {
    HttpSettings settings = HttpSettings.ephemeral().withBearerToken(BearerToken.fromText(TOKEN));
    server = HttpApiServer.bind(settings);
    backend.self = server.advertised();
    router =
        new ApiRouter(
            backend,
            new JdkPeerClient(Duration.ofMillis(500)),
            settings.bearerToken(),
            path ->
                path.equals("static/app.js")
                    ? Optional.of(
                        new StaticAssets.Asset(
                            "x".getBytes(StandardCharsets.UTF_8), "text/javascript"))
                    : Optional.empty(),
            () -> "up 1\n",
            Duration.ofMillis(500));
    server.start(router);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private HttpResponse<String> get(String path, String... headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
            .timeout(Duration.ofSeconds(5));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void bindsLoopbackOnAnEphemeralPortAndAdvertisesIt() {
    assertThat(server.port()).isPositive();
    assertThat(server.advertised()).isEqualTo("127.0.0.1:" + server.port());
  }

  @Test
  void answersWith401WithoutOrWithAWrongTokenAnd200WithTheRightOne() throws Exception {
    assertThat(get("/api/v1/overview").statusCode()).isEqualTo(401);
    assertThat(
            get("/api/v1/overview", "Authorization", "Bearer wrong-token-xxxxxxxxxx").statusCode())
        .isEqualTo(401);
    HttpResponse<String> ok = get("/api/v1/overview", "Authorization", "Bearer " + TOKEN);
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.headers().firstValue("Content-Type")).hasValue(ApiResponse.JSON);
    assertThat(ok.body()).contains("\"instance\":\"127.0.0.1:" + server.port() + "\"");
    assertThat(get("/metrics", "Authorization", "Bearer " + TOKEN).body()).isEqualTo("up 1\n");
    assertThat(get("/health").statusCode()).isEqualTo(200);
    assertThat(get("/static/app.js").headers().firstValue("Content-Type"))
        .hasValue("text/javascript");
  }

  @Test
  void refusesATraversalPathSentVerbatim() throws IOException {
    // HttpClient would normalise nothing either, but a raw socket shows the server sees the bytes.
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      OutputStream out = s.getOutputStream();
      out.write(
          "GET /static/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      assertThat(response).startsWith("HTTP/1.1 400");
      assertThat(response)
          .contains("must not contain '.' or '..' segments")
          .doesNotContain("root:");
    }
  }

  @Test
  void forwardsToAnotherServerWithTheCallersToken() throws Exception {
    FakeBackend ownerBackend = new FakeBackend();
    HttpSettings settings = HttpSettings.ephemeral().withBearerToken(BearerToken.fromText(TOKEN));
    try (HttpApiServer owner = HttpApiServer.bind(settings)) {
      ownerBackend.self = owner.advertised();
      owner.start(
          new ApiRouter(
              ownerBackend,
              new JdkPeerClient(Duration.ofMillis(500)),
              settings.bearerToken(),
              StaticAssets.none(),
              () -> "",
              Duration.ofMillis(500)));
      backend.owners.put("sae-a", new ApiBackend.Remote(owner.advertised()));
      HttpResponse<String> r =
          get("/api/v1/saes/sae-a/windows?limit=3", "Authorization", "Bearer " + TOKEN);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("{\"sae_id\":\"sae-a\",\"window_ms\":60000,\"windows\":[]}");
      assertThat(get("/api/v1/saes/sae-a/windows").statusCode()).isEqualTo(401);
    }
    // The owner is gone now: 502.
    HttpResponse<String> gone =
        get("/api/v1/saes/sae-a/windows", "Authorization", "Bearer " + TOKEN);
    assertThat(gone.statusCode()).isEqualTo(502);
    assertThat(gone.body()).contains("did not answer");
  }

  @Test
  void closingStopsListeningAndABusyPortFailsToBind() {
    HttpSettings taken = HttpSettings.ephemeral().withPort(server.port());
    assertThatThrownBy(() -> HttpApiServer.bind(taken))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("cannot bind the HTTP server to 127.0.0.1:" + server.port());
    int port = server.port();
    server.close();
    server.close();
    assertThatThrownBy(() -> get("/health")).isInstanceOf(ConnectException.class);
    assertThat(port).isPositive();
    assertThatThrownBy(() -> server.start(router)).isInstanceOf(IllegalStateException.class);
  }
}
