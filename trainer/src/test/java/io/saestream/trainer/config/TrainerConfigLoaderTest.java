package io.saestream.trainer.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.sae.training.SparsityRule;
import io.saestream.trainer.training.LearningRateSchedule;
import io.saestream.trainer.training.TrainingDevice;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TrainerConfigLoaderTest {

  private static final Path BASE = Path.of("/etc/sae");

  private static final String MINIMAL =
      """
      trainers:
        - sae-id: s1
          model-id: m
          hook-name: blocks.0.hook_resid_pre
          d-in: 16
          d-sae: 64
          k: 4
      """;

  private static TrainerConfig parse(String yaml) {
    return TrainerConfigLoader.parse(yaml, BASE, Map.of());
  }

  @Test
  void exampleFileIsValid() {
    TrainerConfig c = TrainerConfigLoader.load(Path.of("config/trainer.example.yaml"), Map.of());
    assertThat(c.trainers()).hasSize(1);
    SaeTrainerConfig t = c.trainers().get(0);
    assertThat(t.dIn()).isEqualTo(768);
    assertThat(t.publishEvery()).isEqualTo(Duration.ofMinutes(10));
    assertThat(t.outputDir()).isEqualTo(Path.of("config/checkpoints").toAbsolutePath());
    assertThat(c.kafka().properties()).containsEntry("client.rack", "rack-a");
    assertThat(c.state().dir()).isEqualTo(Path.of("config/state").toAbsolutePath());
    // The example must build real training settings too.
    assertThat(t.trainingSettings(c.runtime()).dSae()).isEqualTo(24576);
  }

  @Test
  void defaultsApply() {
    TrainerConfig c = parse(MINIMAL);
    assertThat(c.kafka().bootstrapServers()).isEqualTo("localhost:9092");
    assertThat(c.kafka().groupId()).isEqualTo("sae-stream-trainer");
    assertThat(c.registryUrls()).containsExactly(URI.create("http://localhost:8081"));
    assertThat(c.topics().activations()).isEqualTo("sae.activations.v1");
    assertThat(c.topics().checkpoints()).isEqualTo("sae.checkpoints.v1");
    assertThat(c.runtime()).isEqualTo(RuntimeSettings.defaults());
    assertThat(c.signingKey()).isNull();
    SaeTrainerConfig t = c.trainers().get(0);
    assertThat(t.rule()).isEqualTo(SparsityRule.TOPK);
    assertThat(t.batchSize()).isEqualTo(4096);
    assertThat(t.bufferTokens()).isEqualTo(8 * 4096);
    assertThat(t.schedule())
        .isEqualTo(new LearningRateSchedule(2e-4, 1000, LearningRateSchedule.Decay.NONE, 0, 0.0));
    assertThat(t.outputDir()).isNull();
    assertThat(t.evalEvery()).isEqualTo(10);
  }

  @Test
  void fullTrainerEntryIsRead() {
    TrainerConfig c =
        parse(
            """
            trainers:
              - sae-id: s1
                model-id: m
                hook-name: h
                d-in: 16
                d-sae: 64
                k: 2.5
                rule: batchtopk
                batch-size: 32
                buffer-tokens: 128
                lr: 1e-3
                warmup-steps: 10
                decay: cosine
                decay-steps: 100
                final-lr-fraction: 0.1
                dead-window: 5000
                eval-every: 4
                publish-every-tokens: 640
                publish-every: PT30S
                output-dir: out
                seed: 7
            """);
    SaeTrainerConfig t = c.trainers().get(0);
    assertThat(t.rule()).isEqualTo(SparsityRule.BATCH_TOPK);
    assertThat(t.k()).isEqualTo(2.5);
    assertThat(t.bufferTokens()).isEqualTo(128);
    assertThat(t.schedule())
        .isEqualTo(new LearningRateSchedule(1e-3, 10, LearningRateSchedule.Decay.COSINE, 100, 0.1));
    assertThat(t.deadWindow()).isEqualTo(5000);
    assertThat(t.evalEvery()).isEqualTo(4);
    assertThat(t.publishEveryTokens()).isEqualTo(640);
    assertThat(t.publishEvery()).isEqualTo(Duration.ofSeconds(30));
    assertThat(t.outputDir()).isEqualTo(BASE.resolve("out"));
    assertThat(t.seed()).isEqualTo(7);
  }

  @Test
  void environmentOverridesTheFile() {
    String yaml = "kafka:\n  bootstrap-servers: file:9092\n" + MINIMAL;
    TrainerConfig c =
        TrainerConfigLoader.parse(
            yaml,
            BASE,
            Map.of(
                "SAE_STREAM_KAFKA_BOOTSTRAP_SERVERS", "env:9092",
                "SAE_STREAM_KAFKA_GROUP_ID", "g2",
                "SAE_STREAM_SCHEMA_REGISTRY_URLS", "http://a:1,http://b:2",
                "SAE_STREAM_TOPICS_CHECKPOINTS", "ck",
                "SAE_STREAM_RUNTIME_DEVICE", "auto",
                "SAE_STREAM_RUNTIME_INTRA_OP_THREADS", "3",
                "SAE_STREAM_KAFKA_PROPERTIES_SECURITY_PROTOCOL", "SSL",
                "SAE_STREAM_CHECKPOINTS_HMAC_KEY", "0123456789abcdef0123456789abcdef",
                "SAE_STREAM_SOMETHING_ELSE", "ignored",
                "HOME", "/root"));
    assertThat(c.kafka().bootstrapServers()).isEqualTo("env:9092");
    assertThat(c.kafka().groupId()).isEqualTo("g2");
    assertThat(c.registryUrls())
        .containsExactly(URI.create("http://a:1"), URI.create("http://b:2"));
    assertThat(c.topics().checkpoints()).isEqualTo("ck");
    assertThat(c.runtime().device()).isEqualTo(TrainingDevice.AUTO);
    assertThat(c.runtime().intraOpThreads()).isEqualTo(3);
    assertThat(c.kafka().properties()).containsEntry("security.protocol", "SSL");
    assertThat(c.signingKey()).isNotNull();
    assertThat(c.toString()).doesNotContain("0123456789abcdef");
  }

  @Test
  void badEnvironmentValueNamesTheKey() {
    assertThatThrownBy(
            () ->
                TrainerConfigLoader.parse(
                    MINIMAL, BASE, Map.of("SAE_STREAM_RUNTIME_INTRA_OP_THREADS", "many")))
        .hasMessageContaining("runtime.intra-op-threads must be an integer, was 'many'");
  }

  @Test
  void shortHmacKeyIsRefusedWithoutShowingIt() {
    assertThatThrownBy(
            () ->
                TrainerConfigLoader.parse(
                    MINIMAL, BASE, Map.of("SAE_STREAM_CHECKPOINTS_HMAC_KEY", "tooshortsecret")))
        .hasMessageContaining("SAE_STREAM_CHECKPOINTS_HMAC_KEY")
        .hasMessageNotContaining("tooshortsecret");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "d-in: 16|d-in: -3|trainers[0].d-in must be > 0, was -3",
        "d-sae: 64|d-sae: 0|trainers[0].d-sae must be > 0, was 0",
        "k: 4|k: 100|trainers[0].k must be in (0, d-sae=64], was 100.0",
        "k: 4|k: abc|trainers[0].k must be a number, was 'abc'",
        "k: 4|k: 4\\n    rule: sparse|trainers[0].rule must be one of [topk, batch_topk], was 'sparse'",
        "k: 4|k: 4\\n    batch-size: 0|trainers[0].batch-size must be > 0, was 0",
        "k: 4|k: 4\\n    batch-size: 64\\n    buffer-tokens: 100|trainers[0].buffer-tokens must be >= 2 × batch-size = 128, was 100",
        "k: 4|k: 4\\n    lr: -1|trainers[0].lr must be > 0, was -1.0",
        "k: 4|k: 4\\n    warmup-steps: -1|trainers[0].warmup-steps must be >= 0, was -1",
        "k: 4|k: 4\\n    decay: cosine|trainers[0].decay-steps must be > 0 for decay cosine, was 0",
        "k: 4|k: 4\\n    decay: exp|trainers[0].decay must be one of [none, cosine, linear], was 'exp'",
        "k: 4|k: 4\\n    final-lr-fraction: 2|trainers[0].final-lr-fraction must be in [0, 1], was 2.0",
        "k: 4|k: 4\\n    dead-window: 0|trainers[0].dead-window must be > 0, was 0",
        "k: 4|k: 4\\n    eval-every: 1|trainers[0].eval-every must be 0 (off) or >= 2 (every Nth batch held out), was 1",
        "k: 4|k: 4\\n    publish-every-tokens: 0|trainers[0].publish-every-tokens must be > 0, was 0",
        "k: 4|k: 4\\n    publish-every: soon|trainers[0].publish-every must be a duration like",
        "k: 4|k: 4\\n    publish-every: 0s|trainers[0].publish-every must be > 0, was PT0S",
        "k: 4|k: 4\\n    colour: red|trainers[0].unknown key colour",
        "sae-id: s1|sae-id: ' '|trainers[0].sae-id must not be blank",
        "model-id: m|model-id:|trainers[0].model-id is required",
      })
  void badTrainerValueNamesTheKey(String from, String to, String message) {
    String yaml = MINIMAL.replace(from, to.replace("\\n", "\n"));
    assertThat(yaml).isNotEqualTo(MINIMAL);
    assertThatThrownBy(() -> parse(yaml)).hasMessageContaining(message);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "kafka:\\n  bootstrap-servers: ' '|kafka.bootstrap-servers must not be blank",
        "kafka:\\n  group-id: ''|kafka.group-id must not be blank",
        "kafka:\\n  colour: red|unknown key kafka.colour",
        "colour: red|unknown key colour",
        "schema-registry:\\n  urls: ftp://x|schema-registry.urls must be http(s) URLs, was ftp://x",
        "topics:\\n  activations: a\\n  checkpoints: a|topics.checkpoints must differ from topics.activations",
        "runtime:\\n  device: tpu|runtime.device must be one of [cpu, cuda, auto], was 'tpu'",
        "runtime:\\n  cuda-device-id: -1|runtime.cuda-device-id must be >= 0, was -1",
        "runtime:\\n  intra-op-threads: -2|runtime.intra-op-threads must be >= 0, was -2",
        "runtime:\\n  poll-timeout: 0ms|runtime.poll-timeout must be > 0",
        "runtime:\\n  skip-log-every: 0|runtime.skip-log-every must be > 0, was 0",
        "kafka:\\n  hmac-key: secret|kafka.hmac-key must not be written in the configuration file",
        "state:\\n  every-steps: 0|state.every-steps must be > 0, was 0",
        "state:\\n  keep: 0|state.keep must be >= 1, was 0",
        "state:\\n  keep: many|state.keep must be an integer, was 'many'",
        "state:\\n  path: /x|unknown key state.path",
      })
  void badSectionValueNamesTheKey(String section, String message) {
    String yaml = section.replace("\\n", "\n") + "\n" + MINIMAL;
    assertThatThrownBy(() -> parse(yaml)).hasMessageContaining(message);
  }

  @Test
  void stateIsOffByDefaultAndItsDirIsRelativeToTheFileOrFromTheEnvironment() {
    assertThat(parse(MINIMAL).state()).isEqualTo(StateSettings.defaults());
    assertThat(parse(MINIMAL).state().enabled()).isFalse();
    TrainerConfig c =
        parse("state:\n  dir: trainer-state\n  every-steps: 25\n  keep: 3\n" + MINIMAL);
    assertThat(c.state()).isEqualTo(new StateSettings(BASE.resolve("trainer-state"), 25, 3));
    assertThat(c.state().enabled()).isTrue();
    TrainerConfig fromEnv =
        TrainerConfigLoader.parse(
            MINIMAL, BASE, Map.of("SAE_STREAM_STATE_DIR", "/var/lib/sae/state"));
    assertThat(fromEnv.state().dir()).isEqualTo(Path.of("/var/lib/sae/state"));
    assertThat(fromEnv.state().everySteps()).isEqualTo(500);
  }

  @Test
  void trainersAreRequiredAndUnique() {
    assertThatThrownBy(() -> parse("kafka:\n  group-id: g\n"))
        .hasMessageContaining("trainers must list at least one SAE");
    assertThatThrownBy(() -> parse("trainers: 3\n"))
        .hasMessageContaining("trainers must be a list");
    String twice = MINIMAL + MINIMAL.substring(MINIMAL.indexOf("  - sae-id"));
    assertThatThrownBy(() -> parse(twice))
        .hasMessageContaining("trainers[1].sae-id must be unique, s1 appears twice");
  }

  @Test
  void notYamlIsRefused() {
    assertThatThrownBy(() -> parse("kafka: [unclosed")).hasMessageContaining("not valid YAML");
    assertThatThrownBy(() -> parse("- a\n- b\n")).hasMessageContaining("must be a YAML mapping");
  }

  @Test
  void fileErrorsNameTheFile() {
    Path missing = Path.of("does-not-exist.yaml");
    assertThatThrownBy(() -> TrainerConfigLoader.load(missing, Map.of()))
        .hasMessageContaining("does-not-exist.yaml");
  }

  @Test
  void environmentVariableNames() {
    assertThat(TrainerConfigLoader.environmentVariable("kafka.bootstrap-servers"))
        .isEqualTo("SAE_STREAM_KAFKA_BOOTSTRAP_SERVERS");
    assertThat(List.of(TrainerConfigLoader.HMAC_KEY_ENV))
        .containsExactly("SAE_STREAM_CHECKPOINTS_HMAC_KEY");
  }
}
