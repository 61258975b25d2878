package io.saestream.streams.monitoring.rules;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the rules file into a {@link RuleBook} and reloads it when its modification time or size
 * changes (polled: WatchService misses edits through symlinks such as Kubernetes ConfigMaps). An
 * invalid file at start fails {@link #start}; an invalid edit later is logged and the previous
 * rules stay in force.
 *
 * <p>Owns one daemon thread until {@link #close()}. Thread-safe.
 */
public final class RuleFileWatcher implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(RuleFileWatcher.class);

  private final Path file;
  private final RuleBook book;
  private final ScheduledExecutorService executor;
  private @Nullable FileTime lastModified;
  private long lastSize = -1;

  private RuleFileWatcher(Path file, RuleBook book) {
    this.file = file;
    this.book = book;
    this.executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "sae-stream-rules-file");
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Loads {@code file} now and polls it every {@code interval}.
   *
   * @throws IllegalArgumentException when the file is invalid (the message names the rule)
   * @throws java.io.UncheckedIOException when it cannot be read
   */
  public static RuleFileWatcher start(Path file, RuleBook book, Duration interval) {
    RuleFileWatcher w = new RuleFileWatcher(file, book);
    try {
      w.reload();
    } catch (IOException e) {
      w.close();
      throw new java.io.UncheckedIOException("cannot read rules file " + file, e);
    } catch (RuntimeException e) {
      w.close();
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
    long millis = Math.max(1, interval.toMillis());
    // poll() reports its own failures, so the future has nothing more to tell.
    var unused = w.executor.scheduleWithFixedDelay(w::poll, millis, millis, TimeUnit.MILLISECONDS);
    return w;
  }

  /** Reloads the file if it changed; returns whether it did. Also called by the poller. */
  public synchronized boolean reloadIfChanged() throws IOException {
    FileTime modified = Files.getLastModifiedTime(file);
    long size = Files.size(file);
    if (modified.equals(lastModified) && size == lastSize) {
      return false;
    }
    reload();
    return true;
  }

  private synchronized void reload() throws IOException {
    FileTime modified = Files.getLastModifiedTime(file);
    long size = Files.size(file);
    String text = Files.readString(file, StandardCharsets.UTF_8);
    // Record the version first: a broken edit is reported once, not on every poll.
    lastModified = modified;
    lastSize = size;
    List<AlertRule> rules = RuleParser.parseFile(text);
    book.replaceFileRules(rules);
    LOG.info("Loaded {} alert rule(s) from {}", rules.size(), file);
  }

  private void poll() {
    try {
      reloadIfChanged();
    } catch (IOException | RuntimeException e) {
      LOG.error(
          "Rules file {} not reloaded, the previous rules stay in force: {}", file, e.toString());
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
