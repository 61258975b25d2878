package io.saestream.streams.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code http.*} keys, the bearer token's sources and {@code application.server}. */
class HttpConfigTest {

  private static final Path BASE = Path.of("/etc/sae-stream");
  private static final String DEPLOYMENTS =
      """
      deployments:
        - sae-id: a
          path: saes/a
      """;
  private static final String TOKEN = "0123456789abcdef-token";

  @TempDir Path dir;

  private static StreamsAppConfig parse(String yaml, Map<String, String> env) {
    return ConfigLoader.parse(yaml + DEPLOYMENTS, BASE, env);
  }

  @Test
  void isOnExactlyWhenMonitoringIsUnlessSetAndBindsLoopback() {
    HttpSettings off = parse("", Map.of()).http();
    assertThat(off.enabled()).isFalse();
    HttpSettings on = parse("monitoring: {enabled: true}\n", Map.of()).http();
    assertThat(on)
        .isEqualTo(new HttpSettings(true, "127.0.0.1", 8080, null, null, Duration.ofSeconds(2)));
    assertThat(
            parse("monitoring: {enabled: true}\nhttp: {enabled: false}\n", Map.of())
                .http()
                .enabled())
        .isFalse();
  }

  @Test
  void readsEveryKeyAndTheTokenFileAndLetsTheEnvironmentOverride() throws Exception {
    Path tokenFile = dir.resolve("token");
    Files.writeString(tokenFile, TOKEN + "\n", StandardCharsets.UTF_8);
    HttpSettings h =
        ConfigLoader.parse(
                "http:\n"
                    + "  enabled: true\n"
                    + "  bind: 0.0.0.0\n"
                    + "  port: 9090\n"
                    + "  advertised-host: node-1.internal\n"
                    + "  bearer-token-file: token\n"
                    + "  forward-timeout: 500ms\n"
                    + DEPLOYMENTS,
                dir,
                Map.of("SAE_STREAM_HTTP_PORT", "0"))
            .http();
    assertThat(h.bind()).isEqualTo("0.0.0.0");
    assertThat(h.port()).isZero();
    assertThat(h.advertisedHostOrBind()).isEqualTo("node-1.internal");
    assertThat(h.forwardTimeout()).isEqualTo(Duration.ofMillis(500));
    assertThat(h.bearerToken()).isEqualTo(BearerToken.fromText(TOKEN));
    assertThat(h.toString()).doesNotContain(TOKEN);
  }

  @Test
  void takesTheTokenFromTheEnvironmentButNeverFromTheFile() {
    HttpSettings h =
        parse("http: {enabled: true}\n", Map.of("SAE_STREAM_HTTP_BEARER_TOKEN", TOKEN)).http();
    BearerToken token = h.bearerToken();
    assertThat(token).isNotNull();
    assertThat(token != null && token.admits("Bearer " + TOKEN)).isTrue();
    assertThatThrownBy(() -> parse("http: {bearer-token: " + TOKEN + "}\n", Map.of()))
        .hasMessageStartingWith("http.bearer-token must not be written in the configuration file")
        .hasMessageNotContaining(TOKEN);
    assertThatThrownBy(
            () ->
                parse(
                    "http: {bearer-token-file: /run/t}\n",
                    Map.of("SAE_STREAM_HTTP_BEARER_TOKEN", TOKEN)))
        .hasMessage("set either http.bearer-token-file or SAE_STREAM_HTTP_BEARER_TOKEN, not both");
    assertThatThrownBy(() -> parse("", Map.of("SAE_STREAM_HTTP_BEARER_TOKEN", "short")))
        .hasMessage(
            "SAE_STREAM_HTTP_BEARER_TOKEN: the bearer token must be at least 16 characters, was 5");
  }

  @Test
  void rejectsBadValuesNamingTheKey() {
    assertThatThrownBy(() -> parse("http: {port: 70000}\n", Map.of()))
        .hasMessage("http.port must be in [0, 65535], was 70000");
    assertThatThrownBy(() -> parse("http: {port: web}\n", Map.of()))
        .hasMessage("http.port must be an integer, was 'web'");
    assertThatThrownBy(() -> parse("http: {bind: 'a b'}\n", Map.of()))
        .hasMessage("http.bind must be a host name or IP address, was 'a b'");
    assertThatThrownBy(() -> parse("http: {enabled: true, bind: 0.0.0.0}\n", Map.of()))
        .hasMessageStartingWith("http.advertised-host is required when http.bind is the wildcard");
    assertThatThrownBy(() -> parse("http: {advertised-host: 0.0.0.0}\n", Map.of()))
        .hasMessageStartingWith(
            "http.advertised-host must be an address other instances can reach");
    assertThatThrownBy(() -> parse("http: {forward-timeout: 0ms}\n", Map.of()))
        .hasMessage("http.forward-timeout must be >= 1ms, was PT0S");
    assertThatThrownBy(() -> parse("http: {colour: red}\n", Map.of()))
        .hasMessageContaining("unknown configuration key 'http.colour'");
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    "http: {bearer-token-file: nope}\n" + DEPLOYMENTS, dir, Map.of()))
        .hasMessageContaining("cannot read bearer token file");
  }

  @Test
  void applicationServerIsSetFromTheHttpServerAndRefusedAsAPassthroughProperty() {
    StreamsAppConfig config = parse("", Map.of());
    assertThat(config.kafkaStreamsProperties().getProperty(StreamsConfig.APPLICATION_SERVER_CONFIG))
        .isNull();
    assertThat(
            config
                .kafkaStreamsProperties("node-1:8080")
                .getProperty(StreamsConfig.APPLICATION_SERVER_CONFIG))
        .isEqualTo("node-1:8080");
    assertThatThrownBy(() -> parse("kafka: {properties: {application.server: 'x:1'}}\n", Map.of()))
        .hasMessageContaining("kafka.properties.application.server is managed by sae-stream");
  }

  @Test
  void bearerTokenComparesWholeHeadersAndHidesItself() {
    BearerToken t = BearerToken.fromText("  " + TOKEN + "\n");
    assertThat(t.admits("Bearer " + TOKEN)).isTrue();
    assertThat(t.admits("bearer " + TOKEN)).as("scheme is case-insensitive").isTrue();
    assertThat(t.admits("Bearer " + TOKEN + "x")).isFalse();
    assertThat(t.admits("Bearer " + TOKEN.substring(1))).isFalse();
    assertThat(t.admits(TOKEN)).isFalse();
    assertThat(t.admits(null)).isFalse();
    assertThat(t.authorizationHeader()).isEqualTo("Bearer " + TOKEN);
    assertThat(t.toString()).doesNotContain(TOKEN);
    assertThatThrownBy(() -> BearerToken.fromText("has a space in it, long enough"))
        .hasMessageContaining("printable ASCII without spaces");
  }
}
