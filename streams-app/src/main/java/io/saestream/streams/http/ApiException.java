package io.saestream.streams.http;

import java.util.Map;

/**
 * A request the API answers with an error status and {@code {"error": message}}: bad parameters
 * (400, the message names the parameter), missing credentials (401), unknown things (404), owner
 * unreachable (502), state not queryable (503). Thrown by the router's handlers, turned into a
 * response by the router.
 */
public final class ApiException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final int status;
  private final Map<String, String> headers;

  /** An error with {@code status} and a message for the client. */
  public ApiException(int status, String message) {
    this(status, message, Map.of());
  }

  /** An error with extra response headers. */
  public ApiException(int status, String message, Map<String, String> headers) {
    super(message);
    this.status = status;
    this.headers = Map.copyOf(headers);
  }

  /** The message for the client. */
  @Override
  public String getMessage() {
    return java.util.Objects.requireNonNullElse(super.getMessage(), "");
  }

  /** The HTTP status. */
  public int status() {
    return status;
  }

  /** Extra response headers. */
  public Map<String, String> headers() {
    return headers;
  }

  static ApiException badRequest(String message) {
    return new ApiException(400, message);
  }

  static ApiException notFound(String message) {
    return new ApiException(404, message);
  }

  static ApiException unavailable(String message) {
    return new ApiException(503, message, Map.of("Retry-After", "1"));
  }
}
