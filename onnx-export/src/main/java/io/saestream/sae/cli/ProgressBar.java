package io.saestream.sae.cli;

import io.saestream.sae.onnx.ExportProgressListener;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * A one-line progress bar for long exports, redrawn in place on stderr at most every 200 ms. Silent
 * for jobs below a size threshold, where it would only flicker. Not thread-safe: the exporter
 * reports progress from the writing thread.
 */
final class ProgressBar implements ExportProgressListener {

  private static final int WIDTH = 30;
  private static final long REDRAW_NANOS = 200_000_000L;

  private final PrintWriter err;
  private final long thresholdBytes;
  private final long startNanos = System.nanoTime();
  private long lastDrawNanos;
  private boolean drawn;

  ProgressBar(PrintWriter err, long thresholdBytes) {
    this.err = err;
    this.thresholdBytes = thresholdBytes;
  }

  @Override
  public void onProgress(long bytesDone, long bytesTotal) {
    if (bytesTotal < thresholdBytes) {
      return;
    }
    long now = System.nanoTime();
    if (drawn && bytesDone < bytesTotal && now - lastDrawNanos < REDRAW_NANOS) {
      return;
    }
    lastDrawNanos = now;
    drawn = true;
    double frac = bytesTotal == 0 ? 1 : Math.min(1.0, (double) bytesDone / bytesTotal);
    int filled = (int) Math.round(frac * WIDTH);
    double secs = (now - startNanos) / 1e9;
    double rate = secs > 0 ? bytesDone / secs : 0;
    err.printf(
        Locale.ROOT,
        "\r[%s%s] %3.0f%% %s / %s  %s/s ",
        "#".repeat(filled),
        " ".repeat(WIDTH - filled),
        frac * 100,
        humanBytes(bytesDone),
        humanBytes(bytesTotal),
        humanBytes((long) rate));
    err.flush();
  }

  /** Ends the bar's line, if one was drawn. */
  void finish() {
    if (drawn) {
      err.println();
      err.flush();
    }
  }

  static String humanBytes(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }
}
