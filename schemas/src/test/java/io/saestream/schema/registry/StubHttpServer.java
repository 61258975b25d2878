package io.saestream.schema.registry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * HTTP server on 127.0.0.1 that answers scripted responses in order (the last one repeats) and
 * records every request. For client tests that need failures a real registry never produces.
 */
final class StubHttpServer implements AutoCloseable {

  /** One scripted answer; {@code delay} holds the answer back to provoke client timeouts. */
  record Answer(int status, String body, String contentType, Duration delay) {
    static Answer json(int status, String body) {
      return new Answer(status, body, RestSchemaRegistryClient.CONTENT_TYPE, Duration.ZERO);
    }

    static Answer text(int status, String body) {
      return new Answer(status, body, "text/html", Duration.ZERO);
    }

    Answer delayedBy(Duration wait) {
      return new Answer(status, body, contentType, wait);
    }
  }

  /** What the server received. */
  record Request(
      String method, String pathAndQuery, String contentType, String authorization, String body) {}

  private final HttpServer server;
  private final Queue<Answer> script = new ConcurrentLinkedQueue<>();
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final CountDownLatch closing = new CountDownLatch(1);
  private volatile Answer last =
      Answer.json(500, "{\"error_code\":50001,\"message\":\"no script\"}");

  StubHttpServer(Answer... answers) throws IOException {
    // As in EmbeddedSchemaRegistry: without it each answer waits ~40 ms for a delayed ACK.
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
    script.addAll(List.of(answers));
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    server.start();
  }

  URI url() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  List<Request> requests() {
    return List.copyOf(requests);
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      URI uri = exchange.getRequestURI();
      requests.add(
          new Request(
              exchange.getRequestMethod(),
              uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()),
              String.valueOf(exchange.getRequestHeaders().getFirst("Content-Type")),
              String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")),
              body));
      Answer next = script.poll();
      Answer answer = next == null ? last : next;
      last = answer;
      if (!answer.delay().isZero()) {
        try {
          // Released early by close(), so a timed-out request does not hold up the test.
          closing.await(answer.delay().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
      byte[] bytes = answer.body().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", answer.contentType());
      exchange.sendResponseHeaders(answer.status(), bytes.length == 0 ? -1 : bytes.length);
      if (bytes.length > 0) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(bytes);
        }
      }
    }
  }

  @Override
  public void close() {
    closing.countDown();
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
