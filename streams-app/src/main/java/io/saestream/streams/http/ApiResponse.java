package io.saestream.streams.http;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One HTTP response: status, content type, body and extra headers. Immutable; the body array is
 * owned by the response once built and must not be modified.
 */
public final class ApiResponse {

  /** Content type of every JSON answer. */
  public static final String JSON = "application/json; charset=utf-8";

  /** Content type of the Prometheus text exposition format. */
  public static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";

  private final int status;
  private final String contentType;
  private final byte[] body;
  private final Map<String, String> headers;

  /**
   * A response.
   *
   * @param status HTTP status
   * @param contentType the {@code Content-Type}
   * @param body the body bytes (not copied)
   * @param headers extra headers (e.g. {@code WWW-Authenticate}, {@code Retry-After})
   */
  public ApiResponse(int status, String contentType, byte[] body, Map<String, String> headers) {
    this.status = status;
    this.contentType = Objects.requireNonNull(contentType, "contentType");
    this.body = Objects.requireNonNull(body, "body");
    this.headers = Map.copyOf(headers);
  }

  /** A JSON response of already-serialized {@code json}. */
  public static ApiResponse json(int status, byte[] json) {
    return new ApiResponse(status, JSON, json, Map.of());
  }

  /** A plain-text response. */
  public static ApiResponse text(int status, String contentType, String text) {
    return new ApiResponse(status, contentType, text.getBytes(StandardCharsets.UTF_8), Map.of());
  }

  /** The HTTP status. */
  public int status() {
    return status;
  }

  /** The {@code Content-Type}. */
  public String contentType() {
    return contentType;
  }

  /** The body (shared, not copied: do not modify). */
  public byte[] body() {
    return body;
  }

  /** Extra headers. */
  public Map<String, String> headers() {
    return headers;
  }

  /** The body as UTF-8 text (tests, logs). */
  public String bodyText() {
    return new String(body, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof ApiResponse r
        && status == r.status
        && contentType.equals(r.contentType)
        && Arrays.equals(body, r.body)
        && headers.equals(r.headers);
  }

  @Override
  public int hashCode() {
    return Objects.hash(status, contentType, Arrays.hashCode(body), headers);
  }

  @Override
  public String toString() {
    return "ApiResponse[" + status + " " + contentType + ", " + body.length + " bytes]";
  }
}
