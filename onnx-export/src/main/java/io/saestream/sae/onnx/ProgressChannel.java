package io.saestream.sae.onnx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/**
 * Counts the weight bytes written through it and reports them to an {@link ExportProgressListener}
 * every {@link #REPORT_EVERY_BYTES}. Does not own (or close) the delegate. Single-threaded.
 */
final class ProgressChannel implements WritableByteChannel {

  static final long REPORT_EVERY_BYTES = 8L << 20;

  private final WritableByteChannel delegate;
  private final ExportProgressListener listener;
  private final long total;
  private long written;
  private long lastReported;

  ProgressChannel(WritableByteChannel delegate, ExportProgressListener listener, long total) {
    this.delegate = delegate;
    this.listener = listener;
    this.total = total;
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    int n = delegate.write(src);
    written += n;
    if (written - lastReported >= REPORT_EVERY_BYTES) {
      lastReported = written;
      listener.onProgress(written, total);
    }
    return n;
  }

  /** Bytes written so far. */
  long written() {
    return written;
  }

  /** Reports the final count. */
  void finish() {
    listener.onProgress(written, total);
  }

  @Override
  public boolean isOpen() {
    return delegate.isOpen();
  }

  /** Does nothing: the delegate belongs to the caller. */
  @Override
  public void close() {}
}
