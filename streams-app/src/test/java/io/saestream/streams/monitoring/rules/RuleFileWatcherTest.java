package io.saestream.streams.monitoring.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RuleFileWatcherTest {

  @TempDir Path dir;

  private static String drift(String id, double threshold) {
    return "rules:\n  - {id: " + id + ", type: drift, sae-id: s, threshold: " + threshold + "}\n";
  }

  private static void write(Path file, String text, int secondsAfterEpoch) throws IOException {
    Files.writeString(file, text);
    // Explicit mtimes: two writes within the file system's timestamp resolution must still differ.
    Files.setLastModifiedTime(
        file, FileTime.from(Instant.ofEpochSecond(1_700_000_000L + secondsAfterEpoch)));
  }

  @Test
  void reloadsTheFileWhenItChanges() throws IOException {
    Path file = dir.resolve("rules.yaml");
    write(file, drift("a", 1), 0);
    RuleBook book = new RuleBook();
    try (RuleFileWatcher w = RuleFileWatcher.start(file, book, Duration.ofMillis(20))) {
      assertThat(book.current().get("a")).isNotNull();
      write(file, drift("b", 2), 1);
      await().atMost(Duration.ofSeconds(5)).until(() -> book.current().get("b") != null);
      assertThat(book.current().get("a")).isNull();
      assertThat(w.reloadIfChanged()).as("the poller already loaded this version").isFalse();
    }
  }

  @Test
  void aBrokenEditIsReportedOnceAndThePreviousRulesStay() throws IOException {
    Path file = dir.resolve("rules.yaml");
    write(file, drift("a", 1), 0);
    RuleBook book = new RuleBook();
    try (RuleFileWatcher w = RuleFileWatcher.start(file, book, Duration.ofHours(1))) {
      assertThat(w.reloadIfChanged()).isFalse();
      write(file, "rules: [ {id: c, type: nope, sae-id: s} ]", 2);
      assertThatThrownBy(w::reloadIfChanged).hasMessageContaining("type must be one of");
      assertThat(w.reloadIfChanged()).isFalse();
      assertThat(book.current().get("a")).isNotNull();
      write(file, drift("d", 1), 3);
      assertThat(w.reloadIfChanged()).isTrue();
      assertThat(book.current().all()).extracting(AlertRule::ruleId).containsExactly("d");
    }
  }

  @Test
  void anInvalidFileFailsAtStart() throws IOException {
    Path file = dir.resolve("rules.yaml");
    write(file, "rules: [ {id: c, type: nope, sae-id: s} ]", 0);
    assertThatThrownBy(() -> RuleFileWatcher.start(file, new RuleBook(), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("rules.yaml")
        .hasMessageContaining("type must be one of");
    assertThatThrownBy(
            () ->
                RuleFileWatcher.start(
                    dir.resolve("missing.yaml"), new RuleBook(), Duration.ofSeconds(1)))
        .isInstanceOf(java.io.UncheckedIOException.class);
  }
}
