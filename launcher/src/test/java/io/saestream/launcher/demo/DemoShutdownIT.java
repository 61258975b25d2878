package io.saestream.launcher.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.saestream.launcher.SaeStreamJvm;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ctrl-C as a user does it, on a demo in its own JVM: SIGTERM (the demo handles SIGINT the same
 * way) while producer, streams app and trainer are busy. The demo must exit within 10 s with status
 * 0, without a native crash (an earlier version aborted inside ONNX Runtime, whose own shutdown
 * hook released its environment under running sessions), and with nothing lost: every batch the
 * producer had acknowledged was processed or dead-lettered.
 */
class DemoShutdownIT {

  /** A progress line after the first swap: producer, streams app and trainer are all busy. */
  private static final Pattern SWAPPED = Pattern.compile("^\\[\\s*\\d+s\\].*\\| swaps [1-9]");

  private static final long STARTUP_TIMEOUT_SECONDS = 180;

  @TempDir Path dir;

  @Test
  void sigtermStopsTheDemoCleanlyWithinTenSecondsAndLosesNothing() throws Exception {
    Path stderr = dir.resolve("stderr.txt");
    Process demo =
        SaeStreamJvm.command(
                dir,
                SmallDemo.arguments(
                    "--duration",
                    "10m",
                    "--publish-every",
                    "4s",
                    "--progress-every",
                    "2s",
                    "--report-dir",
                    dir.resolve("report").toString()))
            .redirectError(stderr.toFile())
            .start();
    List<String> lines = new ArrayList<>();
    CountDownLatch busy = new CountDownLatch(1);
    Thread reader = new Thread(() -> read(demo, lines, busy), "demo-stdout");
    reader.start();
    try {
      boolean started = busy.await(STARTUP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      assertThat(started)
          .as(
              "progress from the demo; stdout %s; stderr:%n%s",
              snapshot(lines), SaeStreamJvm.tail(stderr))
          .isTrue();

      long sent = System.nanoTime();
      // SIGTERM on Linux. Process.destroy() would also close our end of the demo's stdout, and
      // the summary it prints while stopping would be lost.
      assertThat(demo.toHandle().destroy()).as("SIGTERM sent").isTrue();
      boolean exited = demo.waitFor(10, TimeUnit.SECONDS);
      double seconds = (System.nanoTime() - sent) / 1e9;
      reader.join(TimeUnit.SECONDS.toMillis(5));
      String out = String.join("\n", snapshot(lines));
      String err = Files.readString(stderr);
      System.out.printf("demo stopped %.1f s after SIGTERM%n%s%n", seconds, out);

      assertThat(exited).as("exited within 10 s of SIGTERM; stdout:%n%s", out).isTrue();
      assertThat(demo.exitValue()).as("exit status; stderr:%n%s", err).isZero();
      assertThat(SaeStreamJvm.crashEvidence(dir, out + err)).as("native crash").isEmpty();

      assertThat(out).contains("summary").contains("stop requested (SIGTERM)");
      DemoBatchAccounting batches = DemoBatchAccounting.in(out);
      assertThat(batches.produced()).isPositive();
      assertThat(batches.produced())
          .as("nothing lost: produced = processed + dead-lettered")
          .isEqualTo(batches.processed() + batches.deadLettered());
      assertThat(dir.resolve("report").resolve("report.html")).exists();
    } finally {
      if (demo.isAlive()) {
        demo.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  private static void read(Process demo, List<String> lines, CountDownLatch busy) {
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(demo.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        synchronized (lines) {
          lines.add(line);
        }
        if (SWAPPED.matcher(line).find()) {
          busy.countDown();
        }
      }
    } catch (IOException e) {
      synchronized (lines) {
        lines.add("(reading the demo's output failed: " + e + ")");
      }
    }
  }

  private static List<String> snapshot(List<String> lines) {
    synchronized (lines) {
      return List.copyOf(lines);
    }
  }
}
