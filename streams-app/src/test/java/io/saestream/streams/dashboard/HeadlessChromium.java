package io.saestream.streams.dashboard;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * Debian's {@code chromium} in headless mode, driven over the DevTools protocol with the JDK's
 * WebSocket client: navigate, evaluate JavaScript, take screenshots, and collect the page's
 * uncaught exceptions and console errors. Owns the browser process (killed in {@link #close()}) and
 * uses the given profile directory. One caller at a time; event listeners run on the WebSocket
 * thread.
 */
final class HeadlessChromium implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

  private final Process process;
  private final WebSocket socket;
  private final AtomicInteger nextId = new AtomicInteger();
  private final Map<Integer, CompletableFuture<JsonNode>> calls = new ConcurrentHashMap<>();
  private final List<String> pageErrors = new CopyOnWriteArrayList<>();

  private HeadlessChromium(Process process, WebSocket socket) {
    this.process = process;
    this.socket = socket;
  }

  /** The chromium binary on the PATH or at /usr/bin/chromium, if installed. */
  static Optional<Path> findBinary() {
    String path = System.getenv("PATH");
    Stream<Path> onPath =
        path == null
            ? Stream.empty()
            : Stream.of(path.split(java.io.File.pathSeparator)).map(d -> Path.of(d, "chromium"));
    return Stream.concat(onPath, Stream.of(Path.of("/usr/bin/chromium")))
        .filter(Files::isExecutable)
        .findFirst();
  }

  /**
   * Starts {@code binary} headless with a {@code width}×{@code height} window and profile {@code
   * profile}, and attaches to its first page.
   */
  static HeadlessChromium start(Path binary, Path profile, int width, int height)
      throws IOException, InterruptedException {
    List<String> command =
        List.of(
            binary.toString(),
            "--headless=new",
            "--remote-debugging-port=0",
            "--user-data-dir=" + profile,
            // CI runs as root, where Chromium refuses its sandbox.
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--window-size=" + width + "," + height,
            "about:blank");
    Path log = profile.resolveSibling(profile.getFileName() + ".log");
    Process process =
        new ProcessBuilder(command)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(log.toFile())
            .start();
    try {
      // With port 0 Chromium picks one and writes it, with the browser's path, to this file.
      Path portFile = profile.resolve("DevToolsActivePort");
      await("Chromium's DevTools port (log " + log + ")")
          .atMost(START_TIMEOUT)
          .pollInterval(Duration.ofMillis(100))
          .failFast("Chromium exited", () -> !process.isAlive())
          .until(() -> Files.isRegularFile(portFile) && Files.readAllLines(portFile).size() >= 2);
      int port = Integer.parseInt(Files.readAllLines(portFile).get(0).trim());
      HttpClient http = HttpClient.newHttpClient();
      JsonNode targets =
          JSON.readTree(
              http.send(
                      HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list"))
                          .timeout(CALL_TIMEOUT)
                          .build(),
                      HttpResponse.BodyHandlers.ofString())
                  .body());
      String pageSocket = null;
      for (JsonNode target : targets) {
        if (target.path("type").asText().equals("page")) {
          pageSocket = target.path("webSocketDebuggerUrl").asText();
          break;
        }
      }
      if (pageSocket == null) {
        throw new IllegalStateException("Chromium has no page target: " + targets);
      }
      Listener listener = new Listener();
      WebSocket socket =
          http.newWebSocketBuilder()
              .buildAsync(URI.create(pageSocket), listener)
              .get(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      HeadlessChromium browser = new HeadlessChromium(process, socket);
      listener.browser = browser;
      browser.call("Runtime.enable", JSON.createObjectNode());
      browser.call("Page.enable", JSON.createObjectNode());
      return browser;
    } catch (IOException | InterruptedException | RuntimeException e) {
      process.destroyForcibly();
      throw e;
    } catch (ExecutionException | TimeoutException e) {
      process.destroyForcibly();
      throw new IllegalStateException("cannot attach to Chromium", e);
    }
  }

  /** Loads {@code url} and waits until the document has loaded. */
  void navigate(String url) {
    ObjectNode params = JSON.createObjectNode().put("url", url);
    JsonNode result = call("Page.navigate", params);
    if (result.hasNonNull("errorText")) {
      throw new IllegalStateException("navigating to " + url + ": " + result.get("errorText"));
    }
    await("document of " + url)
        .atMost(CALL_TIMEOUT)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> "complete".equals(evaluate("document.readyState").asText()));
  }

  /** The value of {@code expression} in the page (JSON-serialisable; promises awaited). */
  JsonNode evaluate(String expression) {
    ObjectNode params =
        JSON.createObjectNode()
            .put("expression", expression)
            .put("returnByValue", true)
            .put("awaitPromise", true);
    JsonNode result = call("Runtime.evaluate", params);
    if (result.has("exceptionDetails")) {
      throw new IllegalStateException(
          "evaluating " + expression + ": " + result.get("exceptionDetails"));
    }
    return result.path("result").path("value");
  }

  /** A PNG of the whole page. */
  byte[] screenshot() {
    ObjectNode params =
        JSON.createObjectNode().put("format", "png").put("captureBeyondViewport", true);
    return Base64.getDecoder().decode(call("Page.captureScreenshot", params).path("data").asText());
  }

  /** Uncaught exceptions and console errors of the page so far. */
  List<String> pageErrors() {
    return new ArrayList<>(pageErrors);
  }

  /** Closes the connection and kills the browser (forcibly when it does not exit in time). */
  @Override
  public void close() {
    try {
      socket.abort();
    } finally {
      // Chromium's helper processes (renderer, zygote, crashpad) outlive the main one for a moment
      // and keep writing to the profile directory, which the test's temporary directory then cannot
      // delete: stop them too and wait for every one of them.
      java.util.List<ProcessHandle> tree =
          new java.util.ArrayList<>(process.descendants().toList());
      tree.add(process.toHandle());
      tree.forEach(ProcessHandle::destroy);
      try {
        for (ProcessHandle p : tree) {
          try {
            p.onExit().get(10, TimeUnit.SECONDS);
          } catch (java.util.concurrent.TimeoutException
              | java.util.concurrent.ExecutionException e) {
            p.destroyForcibly();
            p.onExit().get(10, TimeUnit.SECONDS);
          }
        }
      } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
        // Not thrown from this finally block (it would hide the primary failure); the temporary
        // directory's cleanup then reports what is left behind.
        System.err.println("chromium did not exit after being killed: " + e);
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  private JsonNode call(String method, ObjectNode params) {
    int id = nextId.incrementAndGet();
    CompletableFuture<JsonNode> answer = new CompletableFuture<>();
    calls.put(id, answer);
    ObjectNode message = JSON.createObjectNode().put("id", id).put("method", method);
    message.set("params", params);
    try {
      socket.sendText(message.toString(), true).get(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      JsonNode reply = answer.get(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      if (reply.has("error")) {
        throw new IllegalStateException(method + " failed: " + reply.get("error"));
      }
      return reply.path("result");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(method + " interrupted", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(method + " got no answer", e);
    } finally {
      calls.remove(id);
    }
  }

  private void onMessage(String text) {
    JsonNode message;
    try {
      message = JSON.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException("DevTools sent no JSON: " + text, e);
    }
    if (message.has("id")) {
      CompletableFuture<JsonNode> answer = calls.get(message.get("id").asInt());
      if (answer != null) {
        answer.complete(message);
      }
      return;
    }
    String method = message.path("method").asText();
    JsonNode params = message.path("params");
    if (method.equals("Runtime.exceptionThrown")) {
      pageErrors.add("exception: " + params.path("exceptionDetails"));
    } else if (method.equals("Runtime.consoleAPICalled")
        && params.path("type").asText().equals("error")) {
      pageErrors.add("console.error: " + params.path("args"));
    }
  }

  /** Joins text frames into messages and hands them to the browser object. */
  private static final class Listener implements WebSocket.Listener {
    private final StringBuilder partial = new StringBuilder();
    private volatile @Nullable HeadlessChromium browser;

    @Override
    public @Nullable CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        String text = partial.toString();
        partial.setLength(0);
        HeadlessChromium b = browser;
        if (b != null) {
          b.onMessage(text);
        }
      }
      ws.request(1);
      return null;
    }
  }
}
