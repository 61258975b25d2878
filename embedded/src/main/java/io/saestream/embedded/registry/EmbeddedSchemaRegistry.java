package io.saestream.embedded.registry;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-JVM schema registry speaking the Confluent Schema Registry REST API subset that Avro serdes
 * use, over HTTP on 127.0.0.1, for the one-command demo and for tests. State lives in memory only.
 *
 * <p>Semantics follow Confluent: registry-wide ids from 1; the same schema (canonical form) gets
 * the same id under every subject; re-registering a schema returns its id without a new version;
 * versions count from 1 per subject; a new version must pass the subject's compatibility level,
 * BACKWARD unless set with {@code PUT /config} or {@code PUT /config/{subject}}, else HTTP 409 with
 * {@code error_code} 409. Errors use Confluent's codes (40401 subject not found, 40402 version not
 * found, 40403 schema not found, 42201 invalid schema, 42202 invalid version, 42203 invalid
 * compatibility level). Only AVRO schemas without references are accepted.
 *
 * <p>Endpoints: {@code GET /subjects}, {@code GET|POST /subjects/{s}/versions}, {@code GET
 * /subjects/{s}/versions/{v}[/schema]}, {@code POST /subjects/{s}}, {@code GET
 * /schemas/ids/{id}[/schema|/subjects|/versions]}, {@code GET /schemas/types}, {@code POST
 * /compatibility/subjects/{s}/versions[/{v}]}, {@code GET|PUT /config}, {@code GET|PUT|DELETE
 * /config/{s}}. Query parameters that Confluent clients add ({@code ?fetchMaxId=}, {@code
 * ?subject=}, {@code ?normalize=}) are accepted.
 *
 * <p>Starting the first registry sets the system property {@code sun.net.httpserver.nodelay=true},
 * unless it is set already, which turns on TCP_NODELAY for every JDK HTTP server in the JVM;
 * without it each answer waits about 40 ms for a delayed ACK.
 *
 * <p>Lifetime: {@link #start()} binds and serves until {@link #close()}; after close, {@link
 * #url()} throws {@link IllegalStateException}. Thread-safe.
 */
public final class EmbeddedSchemaRegistry implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedSchemaRegistry.class);
  private static final String HOST = "127.0.0.1";
  private static final int THREADS = 4;
  private static final String NO_DELAY_PROPERTY = "sun.net.httpserver.nodelay";

  private final HttpServer server;
  private final ExecutorService executor;
  private final RegistryHttpHandler handler;
  private final URI url;
  private volatile boolean closed;

  private EmbeddedSchemaRegistry(
      HttpServer server, ExecutorService executor, RegistryHttpHandler handler) {
    this.server = server;
    this.executor = executor;
    this.handler = handler;
    this.url = URI.create("http://" + HOST + ":" + server.getAddress().getPort());
  }

  /** Starts a registry on an ephemeral port of 127.0.0.1. */
  public static EmbeddedSchemaRegistry start() {
    return start(0);
  }

  /** Starts a registry on {@code port} of 127.0.0.1; 0 picks a free port. */
  public static EmbeddedSchemaRegistry start(int port) {
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port must be in [0, 65535], was " + port);
    }
    enableTcpNoDelay();
    HttpServer server;
    try {
      InetAddress loopback = InetAddress.getByAddress(HOST, new byte[] {127, 0, 0, 1});
      server = HttpServer.create(new InetSocketAddress(loopback, port), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot bind the embedded schema registry to " + HOST + ":" + port, e);
    }
    ExecutorService executor = Executors.newFixedThreadPool(THREADS, new DaemonThreads());
    RegistryHttpHandler handler = new RegistryHttpHandler(new SchemaStore());
    server.createContext("/", handler);
    server.setExecutor(executor);
    server.start();
    EmbeddedSchemaRegistry registry = new EmbeddedSchemaRegistry(server, executor, handler);
    LOG.info("Embedded schema registry listening on {}", registry.url);
    return registry;
  }

  /**
   * The JDK server writes headers and body in two segments; with Nagle's algorithm on, the body
   * then waits for the client's delayed ACK, about 40 ms per request. The server reads this switch
   * once, when its first instance in the JVM is created; an explicit setting is left alone.
   */
  private static void enableTcpNoDelay() {
    if (System.getProperty(NO_DELAY_PROPERTY) == null) {
      System.setProperty(NO_DELAY_PROPERTY, "true");
    }
  }

  /** Base URL, e.g. {@code http://127.0.0.1:40123}, for {@code schema.registry.url}. */
  public URI url() {
    if (closed) {
      throw new IllegalStateException("embedded schema registry is closed");
    }
    return url;
  }

  /** Number of HTTP requests received so far; lets tests prove that clients cache. */
  public long requestCount() {
    return handler.requestCount();
  }

  /** Stops serving and releases the port; idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    server.stop(0);
    executor.shutdown();
    try {
      if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      executor.shutdownNow();
      Thread.currentThread().interrupt();
    }
    LOG.info("Embedded schema registry on {} stopped", url);
  }

  /** Daemon threads, so that a registry left open never keeps a JVM alive. */
  private static final class DaemonThreads implements ThreadFactory {
    private static final AtomicInteger REGISTRIES = new AtomicInteger();
    private final int registry = REGISTRIES.incrementAndGet();
    private final AtomicInteger threads = new AtomicInteger();

    @Override
    public Thread newThread(Runnable task) {
      Thread thread =
          new Thread(
              task, "embedded-schema-registry-" + registry + "-http-" + threads.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    }
  }
}
