package io.saestream.schema.registry;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Settings of a {@link RestSchemaRegistryClient}.
 *
 * @param baseUrls registry base URLs, tried in turn on failure; a URL may carry a path prefix (e.g.
 *     Apicurio's {@code /apis/ccompat/v7})
 * @param connectTimeout limit on establishing a connection
 * @param requestTimeout limit on one request, from sending to the complete answer
 * @param maxRetries retries after the first attempt, on I/O errors, HTTP 5xx and HTTP 429 only
 * @param initialBackoff wait before the first retry; doubled for each further retry
 * @param maxBackoff upper bound of the wait between retries
 * @param basicAuth credentials for HTTP basic authentication, or null for none
 */
public record SchemaRegistryClientConfig(
    List<URI> baseUrls,
    Duration connectTimeout,
    Duration requestTimeout,
    int maxRetries,
    Duration initialBackoff,
    Duration maxBackoff,
    @Nullable BasicAuth basicAuth) {

  /** Default {@link #connectTimeout()}. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);

  /** Default {@link #requestTimeout()}. */
  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);

  /** Default {@link #maxRetries()}. */
  public static final int DEFAULT_MAX_RETRIES = 3;

  /** Default {@link #initialBackoff()}. */
  public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofMillis(100);

  /** Default {@link #maxBackoff()}. */
  public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(2);

  /** Validates every setting and normalises the URLs (no trailing slash). */
  public SchemaRegistryClientConfig {
    Objects.requireNonNull(baseUrls, "baseUrls");
    Objects.requireNonNull(connectTimeout, "connectTimeout");
    Objects.requireNonNull(requestTimeout, "requestTimeout");
    Objects.requireNonNull(initialBackoff, "initialBackoff");
    Objects.requireNonNull(maxBackoff, "maxBackoff");
    if (baseUrls.isEmpty()) {
      throw new IllegalArgumentException("baseUrls must name at least one registry URL");
    }
    List<URI> normalised = new ArrayList<>(baseUrls.size());
    for (URI url : baseUrls) {
      normalised.add(validateUrl(Objects.requireNonNull(url, "baseUrls element")));
    }
    baseUrls = List.copyOf(normalised);
    requirePositive("connectTimeout", connectTimeout);
    requirePositive("requestTimeout", requestTimeout);
    requirePositive("initialBackoff", initialBackoff);
    requirePositive("maxBackoff", maxBackoff);
    if (maxRetries < 0) {
      throw new IllegalArgumentException("maxRetries must be >= 0, was " + maxRetries);
    }
    if (maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException(
          "maxBackoff must be >= initialBackoff (" + initialBackoff + "), was " + maxBackoff);
    }
  }

  /**
   * Default settings for the given registry URLs, comma-separated as in Confluent's {@code
   * schema.registry.url}.
   */
  public static SchemaRegistryClientConfig of(String commaSeparatedUrls) {
    Objects.requireNonNull(commaSeparatedUrls, "commaSeparatedUrls");
    List<URI> urls = new ArrayList<>();
    for (String part : commaSeparatedUrls.split(",", -1)) {
      String trimmed = part.trim();
      if (trimmed.isEmpty()) {
        throw new IllegalArgumentException(
            "registry URLs must be non-empty and comma-separated, was '"
                + commaSeparatedUrls
                + "'");
      }
      try {
        urls.add(URI.create(trimmed));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("registry URL is malformed: '" + trimmed + "'", e);
      }
    }
    return of(urls);
  }

  /** Default settings for the given registry URLs. */
  public static SchemaRegistryClientConfig of(List<URI> baseUrls) {
    return new SchemaRegistryClientConfig(
        baseUrls,
        DEFAULT_CONNECT_TIMEOUT,
        DEFAULT_REQUEST_TIMEOUT,
        DEFAULT_MAX_RETRIES,
        DEFAULT_INITIAL_BACKOFF,
        DEFAULT_MAX_BACKOFF,
        null);
  }

  /** A copy with other timeouts. */
  public SchemaRegistryClientConfig withTimeouts(Duration connect, Duration request) {
    return new SchemaRegistryClientConfig(
        baseUrls, connect, request, maxRetries, initialBackoff, maxBackoff, basicAuth);
  }

  /** A copy with another retry policy. */
  public SchemaRegistryClientConfig withRetries(int retries, Duration initial, Duration max) {
    return new SchemaRegistryClientConfig(
        baseUrls, connectTimeout, requestTimeout, retries, initial, max, basicAuth);
  }

  /** A copy that authenticates with HTTP basic authentication. */
  public SchemaRegistryClientConfig withBasicAuth(BasicAuth credentials) {
    Objects.requireNonNull(credentials, "credentials");
    return new SchemaRegistryClientConfig(
        baseUrls,
        connectTimeout,
        requestTimeout,
        maxRetries,
        initialBackoff,
        maxBackoff,
        credentials);
  }

  private static URI validateUrl(URI url) {
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new IllegalArgumentException(
          "registry URL must be absolute http:// or https://, was '" + url + "'");
    }
    if (url.getHost() == null) {
      throw new IllegalArgumentException("registry URL must name a host, was '" + url + "'");
    }
    if (url.getRawUserInfo() != null) {
      // Credentials in URLs end up in logs and exception messages.
      throw new IllegalArgumentException(
          "registry URL must not carry credentials; use withBasicAuth instead (URL host "
              + url.getHost()
              + ")");
    }
    if (url.getRawQuery() != null || url.getRawFragment() != null) {
      throw new IllegalArgumentException(
          "registry URL must not have a query or fragment, was '" + url + "'");
    }
    String text = url.toString();
    while (text.endsWith("/")) {
      text = text.substring(0, text.length() - 1);
    }
    return URI.create(text);
  }

  private static void requirePositive(String name, Duration value) {
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be > 0, was " + value);
    }
  }

  /**
   * Credentials for HTTP basic authentication; {@link #toString()} hides the password.
   *
   * @param username the user name, without ':'
   * @param password the password
   */
  public record BasicAuth(String username, String password) {

    /** Validates that the user name is non-empty and has no ':'. */
    public BasicAuth {
      Objects.requireNonNull(username, "username");
      Objects.requireNonNull(password, "password");
      if (username.isEmpty() || username.indexOf(':') >= 0) {
        throw new IllegalArgumentException("username must be non-empty and contain no ':'");
      }
    }

    /** Parses Confluent's {@code basic.auth.user.info} form, {@code user:password}. */
    public static BasicAuth parse(String userInfo) {
      Objects.requireNonNull(userInfo, "userInfo");
      int colon = userInfo.indexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("basic auth user info must be 'user:password'");
      }
      return new BasicAuth(userInfo.substring(0, colon), userInfo.substring(colon + 1));
    }

    @Override
    public String toString() {
      return "BasicAuth[username=" + username + ", password=***]";
    }
  }
}
