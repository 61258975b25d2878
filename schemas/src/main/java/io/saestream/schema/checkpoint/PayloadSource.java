package io.saestream.schema.checkpoint;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The bytes of a checkpoint payload, of a size known up front (the chunk records carry the chunk
 * count), read once as a stream so that a payload larger than memory can be published.
 */
public interface PayloadSource {

  /** The number of bytes {@link #open()} yields. */
  long size();

  /** A new stream over the payload; the caller closes it. */
  InputStream open() throws IOException;

  /** A source over {@code payload}, which must not change while it is published. */
  static PayloadSource ofBytes(byte[] payload) {
    Objects.requireNonNull(payload, "payload");
    return new PayloadSource() {
      @Override
      public long size() {
        return payload.length;
      }

      @Override
      public InputStream open() {
        return new ByteArrayInputStream(payload);
      }

      @Override
      public String toString() {
        return "PayloadSource[" + payload.length + " bytes in memory]";
      }
    };
  }

  /**
   * A source over {@code file}, sized now; a file that changes size before it is read fails the
   * publication.
   */
  static PayloadSource ofFile(Path file) throws IOException {
    Objects.requireNonNull(file, "file");
    long size = Files.size(file);
    return new PayloadSource() {
      @Override
      public long size() {
        return size;
      }

      @Override
      public InputStream open() throws IOException {
        return Files.newInputStream(file);
      }

      @Override
      public String toString() {
        return "PayloadSource[" + file + ", " + size + " bytes]";
      }
    };
  }
}
