package io.saestream.schema.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class SchemaRegistryClientConfigTest {

  @Test
  void commaSeparatedUrlsAreSplitTrimmedAndLoseTrailingSlashes() {
    SchemaRegistryClientConfig config =
        SchemaRegistryClientConfig.of(" http://a:8081/ , https://b/apis/ccompat/v7//");

    assertThat(config.baseUrls())
        .containsExactly(URI.create("http://a:8081"), URI.create("https://b/apis/ccompat/v7"));
    assertThat(config.maxRetries()).isEqualTo(SchemaRegistryClientConfig.DEFAULT_MAX_RETRIES);
    assertThat(config.basicAuth()).isNull();
  }

  @Test
  void badUrlsAreRejectedWithTheReason() {
    assertThatThrownBy(() -> SchemaRegistryClientConfig.of(""))
        .hasMessageContaining("non-empty and comma-separated");
    assertThatThrownBy(() -> SchemaRegistryClientConfig.of("http://a,,http://b"))
        .hasMessageContaining("non-empty and comma-separated");
    assertThatThrownBy(() -> SchemaRegistryClientConfig.of("localhost:8081"))
        .hasMessageContaining("http:// or https://");
    assertThatThrownBy(() -> SchemaRegistryClientConfig.of("ftp://host"))
        .hasMessageContaining("http:// or https://");
    assertThatThrownBy(() -> SchemaRegistryClientConfig.of("http://a b"))
        .hasMessageContaining("malformed");
    assertThatThrownBy(() -> SchemaRegistryClientConfig.of("http://host/path?x=1"))
        .hasMessageContaining("query");
    assertThatThrownBy(() -> SchemaRegistryClientConfig.of(List.of()))
        .hasMessageContaining("at least one");
  }

  @Test
  void credentialsInAUrlAreRejectedWithoutEchoingThem() {
    assertThatThrownBy(() -> SchemaRegistryClientConfig.of("http://bob:s3cret@host:8081"))
        .hasMessageContaining("withBasicAuth")
        .hasMessageNotContaining("s3cret");
  }

  @Test
  void timeoutsRetriesAndBackoffsAreValidated() {
    SchemaRegistryClientConfig base = SchemaRegistryClientConfig.of("http://a");

    assertThatThrownBy(() -> base.withTimeouts(Duration.ZERO, Duration.ofSeconds(1)))
        .hasMessage("connectTimeout must be > 0, was PT0S");
    assertThatThrownBy(() -> base.withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(-1)))
        .hasMessage("requestTimeout must be > 0, was PT-1S");
    assertThatThrownBy(() -> base.withRetries(-1, Duration.ofMillis(1), Duration.ofMillis(1)))
        .hasMessage("maxRetries must be >= 0, was -1");
    assertThatThrownBy(() -> base.withRetries(1, Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .hasMessage("maxBackoff must be >= initialBackoff (PT2S), was PT1S");
    assertThat(base.withRetries(0, Duration.ofMillis(1), Duration.ofMillis(1)).maxRetries())
        .isZero();
  }

  @Test
  void basicAuthParsesUserInfoAndHidesThePassword() {
    SchemaRegistryClientConfig.BasicAuth auth =
        SchemaRegistryClientConfig.BasicAuth.parse("svc-sae:pa:ss");

    assertThat(auth.username()).isEqualTo("svc-sae");
    assertThat(auth.password()).isEqualTo("pa:ss");
    assertThat(auth.toString()).doesNotContain("pa:ss");
    assertThat(SchemaRegistryClientConfig.of("http://a").withBasicAuth(auth).toString())
        .doesNotContain("pa:ss");
    assertThatThrownBy(() -> SchemaRegistryClientConfig.BasicAuth.parse("nopassword"))
        .hasMessageContaining("user:password");
    assertThatThrownBy(() -> SchemaRegistryClientConfig.BasicAuth.parse(":x"))
        .hasMessageContaining("user:password");
  }

  @Test
  void compatibilityLevelsParseCaseInsensitivelyAndListTheChoicesOnError() {
    assertThat(CompatibilityLevel.parse(" backward_transitive"))
        .isEqualTo(CompatibilityLevel.BACKWARD_TRANSITIVE);
    assertThatThrownBy(() -> CompatibilityLevel.parse("SIDEWAYS"))
        .hasMessageContaining("NONE, BACKWARD, BACKWARD_TRANSITIVE")
        .hasMessageContaining("'SIDEWAYS'");
  }

  @Test
  void registeredSchemaRejectsImpossibleVersions() {
    assertThatThrownBy(
            () ->
                new RegisteredSchema(
                    "s", 1, 0, org.apache.avro.Schema.create(org.apache.avro.Schema.Type.INT)))
        .hasMessage("version must be >= 1, was 0");
  }
}
