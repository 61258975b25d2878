package io.saestream.streams.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.saestream.streams.config.HttpSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JDK HTTP server of one instance. {@link #bind} opens the socket at once, so that the port
 * (ephemeral or not) is known before Kafka Streams is created with it as {@code
 * application.server}; {@link #start} begins answering with an {@link ApiRouter}. Requests queue in
 * the socket's backlog between the two.
 *
 * <p>Owns the server and its worker threads ({@value #THREADS}, daemon); {@link #close()} stops
 * both, waiting up to one second for exchanges in progress. Thread-safe.
 */
public final class HttpApiServer implements AutoCloseable {

  /** Worker threads answering requests. */
  static final int THREADS = 4;

  private static final Logger LOG = LoggerFactory.getLogger(HttpApiServer.class);

  private final HttpServer server;
  private final ExecutorService workers;
  private final String advertisedHost;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();

  private HttpApiServer(HttpServer server, ExecutorService workers, String advertisedHost) {
    this.server = server;
    this.workers = workers;
    this.advertisedHost = advertisedHost;
  }

  /**
   * Binds {@code settings.bind():settings.port()} without answering yet.
   *
   * @throws UncheckedIOException when the address cannot be bound (in use, not local)
   */
  public static HttpApiServer bind(HttpSettings settings) {
    InetSocketAddress address = new InetSocketAddress(settings.bind(), settings.port());
    HttpServer server;
    try {
      server = HttpServer.create(address, 64);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot bind the HTTP server to " + settings.bind() + ":" + settings.port(), e);
    }
    AtomicInteger n = new AtomicInteger();
    ThreadPoolExecutor workers =
        new ThreadPoolExecutor(
            THREADS,
            THREADS,
            30,
            TimeUnit.SECONDS,
            // Unbounded: a rejected task would reach the JDK server's dispatcher thread.
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, "sae-stream-http-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    workers.allowCoreThreadTimeOut(true);
    server.setExecutor(workers);
    return new HttpApiServer(server, workers, settings.advertisedHostOrBind());
  }

  /** The bound port. */
  public int port() {
    return server.getAddress().getPort();
  }

  /** {@code advertised-host:port}: how other instances reach this one. */
  public String advertised() {
    return advertisedHost + ":" + port();
  }

  /** Starts answering requests with {@code router}; once. */
  public void start(ApiRouter router) {
    if (closed.get()) {
      throw new IllegalStateException("the HTTP server is closed");
    }
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("the HTTP server is already started");
    }
    server.createContext(
        "/",
        exchange -> {
          inFlight.incrementAndGet();
          try {
            handle(router, exchange);
          } finally {
            inFlight.decrementAndGet();
          }
        });
    server.start();
    LOG.info("HTTP API listening on {} (advertised as {})", server.getAddress(), advertised());
  }

  private static void handle(ApiRouter router, HttpExchange exchange) throws IOException {
    try (exchange) {
      try (InputStream body = exchange.getRequestBody()) {
        // GET only: whatever body a client sent is drained so the connection can be reused.
        body.transferTo(OutputStream.nullOutputStream());
      }
      ApiResponse response =
          router.handle(
              new ApiRequest(
                  exchange.getRequestMethod().toUpperCase(java.util.Locale.ROOT),
                  exchange.getRequestURI().getRawPath(),
                  exchange.getRequestURI().getRawQuery(),
                  exchange.getRequestHeaders().getFirst("Authorization")));
      exchange.getResponseHeaders().set("Content-Type", response.contentType());
      exchange.getResponseHeaders().set("Cache-Control", "no-store");
      exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
      for (Map.Entry<String, String> h : response.headers().entrySet()) {
        exchange.getResponseHeaders().set(h.getKey(), h.getValue());
      }
      byte[] body = response.body();
      exchange.sendResponseHeaders(response.status(), body.length == 0 ? -1 : body.length);
      if (body.length > 0) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
      }
    }
  }

  /** Lets exchanges in progress finish for up to a second, stops the server and the workers. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    // HttpServer.stop(delay) of JDK 17 always waits the whole delay, so drain ourselves.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
    while (inFlight.get() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    server.stop(0);
    workers.shutdownNow();
    LOG.info("HTTP API stopped");
  }
}
