package io.saestream.streams.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.schema.checkpoint.HmacKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code checkpoints} section: hot swap settings and the signing key's sources. */
class CheckpointSettingsTest {

  private static final String KEY = "0123456789abcdef0123456789abcdef-key";
  private static final String MINIMAL = "deployments:\n  - sae-id: a\n    path: sae\n";

  @TempDir Path tmp;

  private StreamsAppConfig parse(String yaml, Map<String, String> env) {
    return ConfigLoader.parse(yaml, tmp, env);
  }

  @Test
  void byDefaultTheAppDoesNotFollowCheckpoints() {
    CheckpointSettings settings = parse(MINIMAL, Map.of()).checkpoints();

    assertThat(settings).isEqualTo(CheckpointSettings.defaults());
    assertThat(settings.follow()).isFalse();
    assertThat(settings.topic()).isEqualTo("sae.checkpoints.v1");
    assertThat(settings.hmacKey()).isNull();
    assertThat(settings.maxPayloadSize()).isEqualTo(512L << 20);
    assertThat(settings.assemblyTimeout()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void everyKeyIsReadFromTheFileAndTheKeyFromItsFile() throws IOException {
    Files.writeString(tmp.resolve("key"), KEY + "\n");
    CheckpointSettings settings =
        parse(
                MINIMAL
                    + "checkpoints:\n  follow: true\n  topic: my.checkpoints\n"
                    + "  hmac-key-file: key\n  max-payload-size: 1048576\n"
                    + "  assembly-timeout: 5s\n",
                Map.of())
            .checkpoints();

    assertThat(settings)
        .isEqualTo(
            new CheckpointSettings(
                true, "my.checkpoints", HmacKey.fromText(KEY), 1 << 20, Duration.ofSeconds(5)));
  }

  @Test
  void theKeyMayComeFromTheEnvironmentAndTheSwitchesToo() {
    CheckpointSettings settings =
        parse(
                MINIMAL,
                Map.of(
                    "SAE_STREAM_CHECKPOINTS_HMAC_KEY",
                    KEY,
                    "SAE_STREAM_CHECKPOINTS_FOLLOW",
                    "true"))
            .checkpoints();

    assertThat(settings.follow()).isTrue();
    assertThat(settings.hmacKey()).isEqualTo(HmacKey.fromText(KEY));
  }

  @Test
  void aKeyWrittenInTheConfigurationFileIsRefusedWithoutEchoingIt() {
    assertThatThrownBy(() -> parse(MINIMAL + "checkpoints:\n  hmac-key: " + KEY + "\n", Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "checkpoints.hmac-key must not be written in the configuration file")
        .hasMessageNotContaining(KEY);
  }

  @Test
  void twoSourcesOfTheKeyAreRefused() throws IOException {
    Files.writeString(tmp.resolve("key"), KEY);

    assertThatThrownBy(
            () ->
                parse(
                    MINIMAL + "checkpoints:\n  hmac-key-file: key\n",
                    Map.of("SAE_STREAM_CHECKPOINTS_HMAC_KEY", KEY)))
        .hasMessage(
            "set either checkpoints.hmac-key-file or SAE_STREAM_CHECKPOINTS_HMAC_KEY, not both");
  }

  @Test
  void aShortKeyIsRefusedWithoutEchoingIt() {
    assertThatThrownBy(
            () -> parse(MINIMAL, Map.of("SAE_STREAM_CHECKPOINTS_HMAC_KEY", "tooshort-secret")))
        .hasMessage(
            "SAE_STREAM_CHECKPOINTS_HMAC_KEY: HMAC key must have at least 32 bytes, has 15");
  }

  @Test
  void invalidValuesNameTheirKey() {
    assertThatThrownBy(() -> parse(MINIMAL + "checkpoints:\n  topic: 'a b'\n", Map.of()))
        .hasMessageStartingWith("checkpoints.topic must be a legal Kafka topic name");
    assertThatThrownBy(() -> parse(MINIMAL + "checkpoints:\n  max-payload-size: 0\n", Map.of()))
        .hasMessage("checkpoints.max-payload-size must be > 0, was 0");
    assertThatThrownBy(() -> parse(MINIMAL + "checkpoints:\n  assembly-timeout: 0s\n", Map.of()))
        .hasMessage("checkpoints.assembly-timeout must be > 0, was PT0S");
    assertThatThrownBy(() -> parse(MINIMAL + "checkpoints:\n  follow: maybe\n", Map.of()))
        .hasMessage("checkpoints.follow must be true or false, was 'maybe'");
    assertThatThrownBy(
            () -> parse(MINIMAL + "checkpoints:\n  topic: sae.activations.v1\n", Map.of()))
        .hasMessage(
            "checkpoints.topic must differ from topics.*, 'sae.activations.v1' is used twice");
  }

  @Test
  void theStringFormSaysWhetherAKeyIsSetButNeverTheKey() {
    CheckpointSettings settings = CheckpointSettings.defaults().withHmacKey(HmacKey.fromText(KEY));

    assertThat(settings.toString()).contains("hmacKey=set").doesNotContain(KEY);
    assertThat(parse(MINIMAL, Map.of("SAE_STREAM_CHECKPOINTS_HMAC_KEY", KEY)).toString())
        .doesNotContain(KEY);
  }
}
