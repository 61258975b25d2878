package io.saestream.sae.onnx;

/**
 * Receives weight-writing progress from {@link SaeOnnxExporter}, on the exporting thread, after
 * each chunk (at most every few MiB) and once at the end with {@code bytesDone == bytesTotal}. An
 * exception thrown here aborts the export, which then removes its partial files.
 */
@FunctionalInterface
public interface ExportProgressListener {

  /** Called with the float32 weight bytes written so far and the total to write. */
  void onProgress(long bytesDone, long bytesTotal);

  /** A listener that ignores progress. */
  static ExportProgressListener none() {
    return (done, total) -> {};
  }
}
