package io.saestream.streams.http;

import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Where the server finds the dashboard's files: given the decoded path after the first '/' ("",
 * "index.html", "static/app.js", "static/vendor/…"), the file's bytes and content type, or empty
 * for 404. The server refuses paths with '..' segments before asking. Implementations must be
 * thread-safe.
 */
@FunctionalInterface
public interface StaticAssets {

  /** The asset at {@code pathAfterSlash}, or empty. */
  Optional<Asset> resolve(String pathAfterSlash);

  /** No assets: every non-API path is a 404. */
  static StaticAssets none() {
    return path -> Optional.empty();
  }

  /**
   * A file to serve: its bytes and content type.
   *
   * @param body the file's bytes (copied in and out: an asset is immutable)
   * @param contentType the HTTP content type, with the charset for text
   */
  @SuppressWarnings("ArrayRecordComponent") // the contract's shape; copies keep it immutable
  record Asset(byte[] body, String contentType) {

    /** Validates and copies. */
    public Asset {
      Objects.requireNonNull(body, "body");
      Objects.requireNonNull(contentType, "contentType");
      if (contentType.isBlank()) {
        throw new IllegalArgumentException("contentType must not be blank");
      }
      body = body.clone();
    }

    /** A copy of the bytes. */
    @Override
    public byte[] body() {
      return body.clone();
    }

    /** The number of bytes. */
    public int length() {
      return body.length;
    }

    @Override
    public boolean equals(@Nullable Object o) {
      return o instanceof Asset a
          && Arrays.equals(body, a.body)
          && contentType.equals(a.contentType);
    }

    @Override
    public int hashCode() {
      return 31 * Arrays.hashCode(body) + contentType.hashCode();
    }

    @Override
    public String toString() {
      return "Asset[" + body.length + " bytes, " + contentType + "]";
    }
  }
}
