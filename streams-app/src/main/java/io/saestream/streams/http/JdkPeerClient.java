package io.saestream.streams.http;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.jspecify.annotations.Nullable;

/**
 * {@link PeerClient} over the JDK's {@link HttpClient}: one shared client (HTTP/1.1, connection
 * reuse), every request bounded by the forward timeout (connect and response). Thread-safe.
 */
public final class JdkPeerClient implements PeerClient {

  private final HttpClient client;
  private final Duration timeout;

  /** A client whose requests give up after {@code timeout}. */
  public JdkPeerClient(Duration timeout) {
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    this.client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(timeout)
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  @Override
  public CompletableFuture<PeerResponse> get(
      String hostPort, String pathAndQuery, @Nullable String authorization) {
    HttpRequest.Builder request;
    try {
      request =
          HttpRequest.newBuilder(URI.create("http://" + hostPort + pathAndQuery))
              .timeout(timeout)
              .header("Accept", "application/json")
              .GET();
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(new PeerUnreachableException(hostPort, e));
    }
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    return client
        .sendAsync(request.build(), HttpResponse.BodyHandlers.ofString())
        .handle(
            (response, failure) -> {
              if (failure != null) {
                Throwable cause =
                    failure instanceof CompletionException && failure.getCause() != null
                        ? failure.getCause()
                        : failure;
                throw new PeerUnreachableException(hostPort, cause);
              }
              return new PeerResponse(response.statusCode(), response.body());
            });
  }
}
