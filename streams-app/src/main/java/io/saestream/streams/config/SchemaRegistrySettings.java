package io.saestream.streams.config;

import io.saestream.schema.registry.SchemaRegistryClientConfig;
import java.net.URI;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * How to reach the schema registry.
 *
 * @param urls registry base URLs, tried in turn
 * @param basicAuthUserInfo {@code user:password} for HTTP basic authentication, or null
 * @param autoRegisterSchemas register the output schemas (FeatureBatch, ReconstructionStats) when
 *     missing; when false they must have been registered beforehand
 */
public record SchemaRegistrySettings(
    List<URI> urls, @Nullable String basicAuthUserInfo, boolean autoRegisterSchemas) {

  /** Validates the URLs by building the client settings once. */
  public SchemaRegistrySettings {
    Objects.requireNonNull(urls, "schema-registry.urls");
    urls = List.copyOf(urls);
    try {
      SchemaRegistryClientConfig.of(urls);
      if (basicAuthUserInfo != null) {
        SchemaRegistryClientConfig.BasicAuth.parse(basicAuthUserInfo);
      }
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("schema-registry: " + e.getMessage(), e);
    }
  }

  /**
   * Parses Confluent's comma-separated {@code schema.registry.url} form; no authentication,
   * automatic registration.
   */
  public static SchemaRegistrySettings of(String commaSeparatedUrls) {
    try {
      return new SchemaRegistrySettings(
          SchemaRegistryClientConfig.of(commaSeparatedUrls).baseUrls(), null, true);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("schema-registry.urls: " + e.getMessage(), e);
    }
  }

  /** Settings for the registry client. */
  public SchemaRegistryClientConfig clientConfig() {
    SchemaRegistryClientConfig config = SchemaRegistryClientConfig.of(urls);
    return basicAuthUserInfo == null
        ? config
        : config.withBasicAuth(SchemaRegistryClientConfig.BasicAuth.parse(basicAuthUserInfo));
  }

  /** Hides the credentials. */
  @Override
  public String toString() {
    return "SchemaRegistrySettings[urls="
        + urls
        + ", basicAuth="
        + (basicAuthUserInfo == null ? "none" : "***")
        + ", autoRegisterSchemas="
        + autoRegisterSchemas
        + "]";
  }
}
