package io.saestream.streams.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  private static final Path BASE = Path.of("/etc/sae-stream");

  private static final String MINIMAL =
      """
      deployments:
        - sae-id: res-8
          path: saes/blocks.8
      """;

  private static StreamsAppConfig parse(String yaml) {
    return ConfigLoader.parse(yaml, BASE, Map.of());
  }

  private static StreamsAppConfig parse(String yaml, Map<String, String> env) {
    return ConfigLoader.parse(yaml, BASE, env);
  }

  @Test
  void minimalFileGetsTheDefaults() {
    StreamsAppConfig config = parse(MINIMAL);

    assertThat(config.kafka().bootstrapServers()).isEqualTo("localhost:9092");
    assertThat(config.kafka().applicationId()).isEqualTo("sae-stream");
    assertThat(config.kafka().properties()).isEmpty();
    assertThat(config.schemaRegistry().urls()).containsExactly(URI.create("http://localhost:8081"));
    assertThat(config.schemaRegistry().autoRegisterSchemas()).isTrue();
    assertThat(config.topics()).isEqualTo(TopicNames.defaults());
    assertThat(config.topics().activations()).isEqualTo("sae.activations.v1");
    assertThat(config.topics().deadLetter()).isEqualTo("sae.dlq.v1");
    assertThat(config.streams().threads()).isEqualTo(1);
    assertThat(config.streams().maxTokensPerRecord()).isEqualTo(4096);
    assertThat(config.streams().commitInterval()).isEqualTo(Duration.ofMillis(100));
    assertThat(config.inference()).isEqualTo(InferenceSettings.defaults());
    assertThat(config.deployments())
        .containsExactly(SaeDeployment.of("res-8", BASE.resolve("saes/blocks.8")));
  }

  @Test
  void everyKeyIsRead() {
    StreamsAppConfig config =
        parse(
            """
            kafka:
              bootstrap-servers: broker-1:9093,broker-2:9093
              application-id: sae-stream-prod
              properties:
                security.protocol: SASL_SSL
                sasl.mechanism: PLAIN
                producer.linger.ms: 5
            schema-registry:
              urls: [http://r1:8081, http://r2:8081/]
              basic-auth-user-info: user:secret
              auto-register-schemas: false
            topics:
              activations: a
              features: f
              reconstruction: r
              dead-letter: d
            streams:
              threads: 4
              max-tokens-per-record: 512
              state-dir: /var/lib/sae
              commit-interval: 250ms
              shutdown-timeout: PT1M
            inference:
              device: AUTO
              cuda-device-id: 1
              intra-op-threads: 2
            deployments:
              - sae-id: res-8
                path: /models/res-8
                model-id: gpt2-small
                hook-name: blocks.8.hook_resid_pre
                max-active: 64
                version: 7
              - sae-id: res-9
                path: ../res-9
            """);

    assertThat(config.kafka().bootstrapServers()).isEqualTo("broker-1:9093,broker-2:9093");
    assertThat(config.kafka().applicationId()).isEqualTo("sae-stream-prod");
    assertThat(config.kafka().properties())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "security.protocol", "SASL_SSL",
                "sasl.mechanism", "PLAIN",
                "producer.linger.ms", "5"));
    assertThat(config.schemaRegistry().urls())
        .containsExactly(URI.create("http://r1:8081"), URI.create("http://r2:8081/"));
    assertThat(config.schemaRegistry().clientConfig().basicAuth()).isNotNull();
    assertThat(config.schemaRegistry().autoRegisterSchemas()).isFalse();
    assertThat(config.topics()).isEqualTo(new TopicNames("a", "f", "r", "d"));
    assertThat(config.streams())
        .isEqualTo(
            new StreamsSettings(
                4, 512, Path.of("/var/lib/sae"), Duration.ofMillis(250), Duration.ofMinutes(1)));
    assertThat(config.inference()).isEqualTo(new InferenceSettings(Device.AUTO, 1, 2));
    assertThat(config.deployments())
        .containsExactly(
            new SaeDeployment(
                "res-8", Path.of("/models/res-8"), "gpt2-small", "blocks.8.hook_resid_pre", 64, 7),
            SaeDeployment.of("res-9", Path.of("/etc/res-9")));
  }

  @Test
  void environmentOverridesTheFile() {
    StreamsAppConfig config =
        parse(
            MINIMAL + "streams:\n  threads: 2\n",
            Map.of(
                "SAE_STREAM_KAFKA_BOOTSTRAP_SERVERS", "kafka:29092",
                "SAE_STREAM_STREAMS_THREADS", "3",
                "SAE_STREAM_INFERENCE_DEVICE", "cuda",
                "SAE_STREAM_SCHEMA_REGISTRY_URLS", "http://a:1,http://b:2",
                "SAE_STREAM_KAFKA_PROPERTIES_SASL_JAAS_CONFIG", "secret-jaas",
                "SAE_STREAM_UNKNOWN_THING", "ignored",
                "PATH", "/usr/bin"));

    assertThat(config.kafka().bootstrapServers()).isEqualTo("kafka:29092");
    assertThat(config.streams().threads()).isEqualTo(3);
    assertThat(config.inference().device()).isEqualTo(Device.CUDA);
    assertThat(config.schemaRegistry().urls()).hasSize(2);
    assertThat(config.kafka().properties()).containsEntry("sasl.jaas.config", "secret-jaas");
  }

  @Test
  void everyScalarKeyHasItsOwnEnvironmentVariable() {
    List<String> keys = ConfigLoader.scalarKeys();
    Set<String> variables = new HashSet<>();
    for (String key : keys) {
      variables.add(ConfigLoader.environmentVariable(key));
    }
    assertThat(variables).hasSameSizeAs(keys);
    assertThat(ConfigLoader.environmentVariable("streams.max-tokens-per-record"))
        .isEqualTo("SAE_STREAM_STREAMS_MAX_TOKENS_PER_RECORD");
  }

  @Test
  void invalidValuesNameTheirKey() {
    assertThatThrownBy(() -> parse(MINIMAL + "streams:\n  max-tokens-per-record: -3\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("streams.max-tokens-per-record must be > 0, was -3");
    assertThatThrownBy(() -> parse(MINIMAL + "streams:\n  threads: many\n"))
        .hasMessage("streams.threads must be an integer, was 'many'");
    assertThatThrownBy(() -> parse(MINIMAL + "streams:\n  commit-interval: 100\n"))
        .hasMessageStartingWith("streams.commit-interval must be a duration like 100ms");
    assertThatThrownBy(() -> parse(MINIMAL + "inference:\n  device: tpu\n"))
        .hasMessage("inference.device must be one of cpu, cuda, auto, was 'tpu'");
    assertThatThrownBy(() -> parse(MINIMAL + "inference:\n  intra-op-threads: -1\n"))
        .hasMessageStartingWith("inference.intra-op-threads must be >= 0");
    assertThatThrownBy(() -> parse(MINIMAL + "topics:\n  features: 'bad topic'\n"))
        .hasMessageStartingWith("topics.features must be a legal Kafka topic name");
    assertThatThrownBy(() -> parse(MINIMAL + "topics:\n  features: sae.activations.v1\n"))
        .hasMessageContaining("'sae.activations.v1' is used twice");
    assertThatThrownBy(() -> parse(MINIMAL + "kafka:\n  application-id: 'a b'\n"))
        .hasMessage("kafka.application-id must match [a-zA-Z0-9._-]+, was 'a b'");
    assertThatThrownBy(() -> parse(MINIMAL + "schema-registry:\n  urls: ftp://x\n"))
        .hasMessageStartingWith("schema-registry: registry URL must be absolute http://");
  }

  @Test
  void unknownKeysAreErrors() {
    assertThatThrownBy(() -> parse(MINIMAL + "streams:\n  max-token-per-record: 5\n"))
        .hasMessageStartingWith("unknown configuration key 'streams.max-token-per-record'");
    assertThatThrownBy(() -> parse(MINIMAL + "stream:\n  threads: 5\n"))
        .hasMessageStartingWith("unknown configuration key 'stream'");
    assertThatThrownBy(
            () -> parse("deployments:\n  - sae-id: a\n    path: p\n    hook: blocks.1\n"))
        .hasMessageStartingWith("unknown configuration key 'deployments[0].hook'");
  }

  @Test
  void deploymentsAreRequiredAndChecked() {
    assertThatThrownBy(() -> parse("kafka:\n  application-id: x\n"))
        .hasMessage("deployments must list at least one SAE");
    assertThatThrownBy(() -> parse("deployments:\n  - path: p\n"))
        .hasMessage("deployments[0].sae-id is required");
    assertThatThrownBy(() -> parse("deployments:\n  - sae-id: a\n    path: p\n    max-active: 0\n"))
        .hasMessage("deployments[0].max-active must be > 0, was 0");
    assertThatThrownBy(
            () -> parse("deployments:\n  - {sae-id: a, path: p}\n  - {sae-id: a, path: q}\n"))
        .hasMessage("deployments[1].sae-id 'a' is used by an earlier deployment");
  }

  @Test
  void managedKafkaPropertiesCannotBeOverridden() {
    assertThatThrownBy(
            () ->
                parse(MINIMAL + "kafka:\n  properties:\n    processing.guarantee: at_least_once\n"))
        .hasMessageStartingWith("kafka.properties.processing.guarantee is managed by sae-stream");
  }

  @Test
  void secretsStayOutOfToString() {
    StreamsAppConfig config =
        parse(
            MINIMAL
                + "kafka:\n  properties:\n    sasl.jaas.config: password=hunter2\n"
                + "schema-registry:\n  basic-auth-user-info: user:hunter2\n");
    assertThat(config.toString()).doesNotContain("hunter2").contains("sasl.jaas.config");
  }

  @Test
  void loadReadsAFileAndResolvesPathsAgainstIt(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("sae-stream.yaml");
    Files.writeString(file, MINIMAL);

    StreamsAppConfig config = StreamsAppConfig.load(file, Map.of());

    assertThat(config.deployments().get(0).path()).isEqualTo(dir.resolve("saes/blocks.8"));
  }

  @Test
  void loadNamesTheFileInErrors(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(file, "deployments: [");

    assertThatThrownBy(() -> StreamsAppConfig.load(file, Map.of()))
        .hasMessageStartingWith(file + ": not valid YAML");
  }

  @Test
  void theExampleConfigurationIsValid() {
    Path dir = Path.of("config").toAbsolutePath();
    Path example = dir.resolve("sae-stream.example.yaml");

    StreamsAppConfig config = StreamsAppConfig.load(example, Map.of());

    assertThat(config.inference().device()).isEqualTo(Device.AUTO);
    assertThat(config.deployments()).hasSize(1);
    assertThat(config.streams().stateDir()).isEqualTo(dir.resolve("state"));
  }
}
