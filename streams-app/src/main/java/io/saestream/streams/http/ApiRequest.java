package io.saestream.streams.http;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One HTTP request as the router sees it.
 *
 * @param method the HTTP method, upper case
 * @param rawPath the path as sent, still percent-encoded
 * @param rawQuery the query string as sent (without '?'), or null
 * @param authorization the {@code Authorization} header, or null
 */
public record ApiRequest(
    String method, String rawPath, @Nullable String rawQuery, @Nullable String authorization) {

  /** Checks for nulls. */
  public ApiRequest {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(rawPath, "rawPath");
  }

  /** A GET of {@code pathAndQuery} ({@code /a/b?x=1}) without credentials. */
  public static ApiRequest get(String pathAndQuery) {
    return get(pathAndQuery, null);
  }

  /** A GET of {@code pathAndQuery} with an {@code Authorization} header (or null). */
  public static ApiRequest get(String pathAndQuery, @Nullable String authorization) {
    int q = pathAndQuery.indexOf('?');
    return q < 0
        ? new ApiRequest("GET", pathAndQuery, null, authorization)
        : new ApiRequest(
            "GET", pathAndQuery.substring(0, q), pathAndQuery.substring(q + 1), authorization);
  }
}
