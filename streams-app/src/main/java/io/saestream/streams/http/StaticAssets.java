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

  /** A file to serve: its bytes (not copied; must not be modified) and content type. */
  final class Asset {
    private final byte[] body;
    private final String contentType;

    /** An asset of {@code body} with {@code contentType}. */
    public Asset(byte[] body, String contentType) {
      this.body = Objects.requireNonNull(body, "body");
      this.contentType = Objects.requireNonNull(contentType, "contentType");
    }

    /** The bytes (shared, not copied). */
    public byte[] body() {
      return body;
    }

    /** The {@code Content-Type}. */
    public String contentType() {
      return contentType;
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
      return "Asset[" + contentType + ", " + body.length + " bytes]";
    }
  }
}
