package io.saestream.streams.config;

import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The read-only HTTP API and dashboard (keys {@code http.*}).
 *
 * @param enabled whether the app serves HTTP; the configuration file defaults it to {@code
 *     monitoring.enabled}
 * @param bind address the server listens on; {@code 127.0.0.1} unless configured, so that nothing
 *     is exposed by accident
 * @param port TCP port, 0 for an ephemeral one
 * @param advertisedHost host name other instances use to reach this one, also given to Kafka
 *     Streams as {@code application.server}; null for {@link #bind}
 * @param bearerToken token every {@code /api/**} and {@code /metrics} request must present, or null
 *     for none; read from {@code http.bearer-token-file} or the environment variable {@code
 *     SAE_STREAM_HTTP_BEARER_TOKEN}, never from the file itself, never logged
 * @param forwardTimeout how long a query forwarded to the instance that owns its key may take
 */
public record HttpSettings(
    boolean enabled,
    String bind,
    int port,
    @Nullable String advertisedHost,
    @Nullable BearerToken bearerToken,
    Duration forwardTimeout) {

  /** Default {@link #bind()}. */
  public static final String DEFAULT_BIND = "127.0.0.1";

  /** Default {@link #port()}. */
  public static final int DEFAULT_PORT = 8080;

  /** Default {@link #forwardTimeout()}. */
  public static final Duration DEFAULT_FORWARD_TIMEOUT = Duration.ofSeconds(2);

  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._:\\-\\[\\]%]+");

  /** Validates the settings. */
  public HttpSettings {
    Objects.requireNonNull(bind, "http.bind");
    Objects.requireNonNull(forwardTimeout, "http.forward-timeout");
    checkHost("http.bind", bind);
    if (advertisedHost != null) {
      checkHost("http.advertised-host", advertisedHost);
      if (isWildcard(advertisedHost)) {
        throw new IllegalArgumentException(
            "http.advertised-host must be an address other instances can reach, was '"
                + advertisedHost
                + "'");
      }
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("http.port must be in [0, 65535], was " + port);
    }
    if (forwardTimeout.toMillis() < 1) {
      throw new IllegalArgumentException(
          "http.forward-timeout must be >= 1ms, was " + forwardTimeout);
    }
    if (enabled && advertisedHost == null && isWildcard(bind)) {
      throw new IllegalArgumentException(
          "http.advertised-host is required when http.bind is the wildcard address '"
              + bind
              + "': other instances need a host name to reach this one");
    }
  }

  /** HTTP off; when switched on: 127.0.0.1:8080, no token, 2 s forward timeout. */
  public static HttpSettings defaults() {
    return new HttpSettings(false, DEFAULT_BIND, DEFAULT_PORT, null, null, DEFAULT_FORWARD_TIMEOUT);
  }

  /** HTTP on 127.0.0.1 at an ephemeral port (tests, the demo). */
  public static HttpSettings ephemeral() {
    return new HttpSettings(true, DEFAULT_BIND, 0, null, null, DEFAULT_FORWARD_TIMEOUT);
  }

  /** The host other instances use: {@link #advertisedHost()}, else {@link #bind()}. */
  public String advertisedHostOrBind() {
    return advertisedHost != null ? advertisedHost : bind;
  }

  /** A copy with HTTP on or off. */
  public HttpSettings withEnabled(boolean on) {
    return new HttpSettings(on, bind, port, advertisedHost, bearerToken, forwardTimeout);
  }

  /** A copy with another port. */
  public HttpSettings withPort(int p) {
    return new HttpSettings(enabled, bind, p, advertisedHost, bearerToken, forwardTimeout);
  }

  /** A copy with another bearer token (null for none). */
  public HttpSettings withBearerToken(@Nullable BearerToken token) {
    return new HttpSettings(enabled, bind, port, advertisedHost, token, forwardTimeout);
  }

  private static boolean isWildcard(String host) {
    return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
  }

  private static void checkHost(String key, String host) {
    if (host.isBlank() || !HOST.matcher(host).matches()) {
      throw new IllegalArgumentException(
          key + " must be a host name or IP address, was '" + host + "'");
    }
  }
}
