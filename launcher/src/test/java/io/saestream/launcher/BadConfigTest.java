package io.saestream.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.saestream.streams.cli.StreamsCommand;
import io.saestream.streams.config.StreamsAppConfig;
import io.saestream.trainer.cli.TrainerCommand;
import io.saestream.trainer.config.TrainerConfigLoader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * A bad configuration value stops {@code sae-stream streams} and {@code sae-stream trainer} at
 * start, through the real command line, with exit code 2 and one line that names the key. Each case
 * breaks one value of a configuration that otherwise loads ({@link #theBaseConfigsLoad}), so the
 * failure is the broken value's.
 */
class BadConfigTest {

  private static final String STREAMS_DEPLOYMENT =
      "deployments:\n  - sae-id: sae-a\n    path: sae-a\n";

  private static final String TRAINER_ENTRY =
      """
      trainers:
        - sae-id: t
          model-id: m
          hook-name: h
          d-in: 8
          d-sae: 16
          k: 4
      """;

  @TempDir Path dir;

  /** The output of one run. */
  private record Run(int exitCode, String err) {}

  private static Run run(CommandLine cli, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new Run(code, err.toString());
  }

  private Path write(String name, String yaml) throws IOException {
    return Files.writeString(dir.resolve(name), yaml);
  }

  private static void failsNamingTheKey(Run run, String expected) {
    assertThat(run.exitCode()).as("exit code; stderr: %s", run.err()).isEqualTo(2);
    String message = run.err().strip();
    assertThat(message).as("one line").isNotEmpty().doesNotContain("\n");
    assertThat(message).contains(expected);
  }

  @Test
  void theBaseConfigsLoad() throws IOException {
    Path streams = write("streams.yaml", STREAMS_DEPLOYMENT);
    Path trainer = write("trainer.yaml", TRAINER_ENTRY);

    assertThatCode(() -> StreamsAppConfig.load(streams, Map.of())).doesNotThrowAnyException();
    assertThatCode(() -> TrainerConfigLoader.load(trainer, Map.of())).doesNotThrowAnyException();
  }

  static Stream<Arguments> badStreamsConfigs() {
    return Stream.of(
        Arguments.of(
            "wrong type", "streams:\n  threads: many\n", "streams.threads must be an integer"),
        Arguments.of(
            "list for a scalar", "streams:\n  threads: [1, 2]\n", "streams.threads must be"),
        Arguments.of(
            "negative size",
            "streams:\n  max-tokens-per-record: -3\n",
            "streams.max-tokens-per-record must be > 0, was -3"),
        Arguments.of(
            "negative payload size",
            "checkpoints:\n  max-payload-size: -1\n",
            "checkpoints.max-payload-size must be > 0"),
        Arguments.of(
            "unknown enum value",
            "inference:\n  device: tpu\n",
            "inference.device must be one of cpu, cuda, auto, was 'tpu'"),
        Arguments.of(
            "negative device id", "inference:\n  cuda-device-id: -1\n", "inference.cuda-device-id"),
        Arguments.of("unknown key", "inference:\n  devcie: cpu\n", "inference.devcie"),
        Arguments.of("unknown section", "infrence:\n  device: cpu\n", "infrence"),
        Arguments.of("section not a mapping", "kafka: localhost:9092\n", "kafka must be a mapping"),
        Arguments.of(
            "bad duration", "streams:\n  commit-interval: soon\n", "streams.commit-interval"),
        Arguments.of("bad boolean", "monitoring:\n  enabled: maybe\n", "monitoring.enabled"),
        Arguments.of(
            "out of range", "monitoring:\n  dense-density: 2\n", "monitoring.dense-density"),
        Arguments.of("bad topic name", "topics:\n  features: 'a topic'\n", "topics.features"),
        Arguments.of(
            "malformed registry URL",
            "schema-registry:\n  urls: 'http://a b'\n",
            "schema-registry.urls"),
        Arguments.of(
            "managed Kafka property",
            "kafka:\n  properties:\n    processing.guarantee: at_least_once\n",
            "kafka.properties.processing.guarantee"),
        Arguments.of(
            "secret in the file",
            "checkpoints:\n  hmac-key: 0123456789abcdef0123456789abcdef\n",
            "checkpoints.hmac-key"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badStreamsConfigs")
  void aBadStreamsValueFailsAtStartNamingTheKey(String name, String section, String expected)
      throws IOException {
    Path file = write("streams.yaml", section + STREAMS_DEPLOYMENT);

    failsNamingTheKey(
        run(SaeStreamCommand.commandLine(), "streams", "--config", file.toString()), expected);
  }

  static Stream<Arguments> badDeployments() {
    return Stream.of(
        Arguments.of("max-active: 0", "deployments[0].max-active must be > 0, was 0"),
        Arguments.of("max-active: many", "deployments[0].max-active must be an integer"),
        Arguments.of("version: -1", "deployments[0].version must be >= 0"),
        Arguments.of("pth: elsewhere", "deployments[0].pth"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badDeployments")
  void aBadDeploymentFailsAtStartNamingTheKey(String line, String expected) throws IOException {
    Path file = write("streams.yaml", STREAMS_DEPLOYMENT + "    " + line + "\n");

    failsNamingTheKey(
        run(SaeStreamCommand.commandLine(), "streams", "--config", file.toString()), expected);
  }

  @Test
  void aStreamsConfigWithoutDeploymentsFailsAtStart() throws IOException {
    Path file = write("streams.yaml", "streams:\n  threads: 2\n");

    failsNamingTheKey(
        run(SaeStreamCommand.commandLine(), "streams", "--config", file.toString()), "deployments");
  }

  @Test
  void aMissingStreamsConfigFailsAtStartNamingTheFile() {
    Path missing = dir.resolve("missing.yaml");

    failsNamingTheKey(
        run(SaeStreamCommand.commandLine(), "streams", "--config", missing.toString()),
        "missing.yaml");
  }

  @Test
  void aBadStreamsEnvironmentOverrideFailsAtStartNamingTheKey() throws IOException {
    // The launcher reads the process environment; the command itself takes it as a map.
    Path file = write("streams.yaml", STREAMS_DEPLOYMENT);
    CommandLine cli =
        new CommandLine(new StreamsCommand(Map.of("SAE_STREAM_INFERENCE_DEVICE", "tpu")));

    failsNamingTheKey(run(cli, "--config", file.toString()), "inference.device");
  }

  static Stream<Arguments> badTrainerConfigs() {
    return Stream.of(
        Arguments.of(
            "unknown enum value",
            "runtime:\n  device: tpu\n" + TRAINER_ENTRY,
            "runtime.device must be one of"),
        Arguments.of(
            "unknown key", "runtime:\n  devices: cpu\n" + TRAINER_ENTRY, "runtime.devices"),
        Arguments.of(
            "unknown section", "runtim:\n  device: cpu\n" + TRAINER_ENTRY, "unknown key runtim"),
        Arguments.of(
            "negative threads",
            "runtime:\n  intra-op-threads: -1\n" + TRAINER_ENTRY,
            "runtime.intra-op-threads must be >= 0"),
        Arguments.of(
            "bad duration",
            "runtime:\n  poll-timeout: soon\n" + TRAINER_ENTRY,
            "runtime.poll-timeout"),
        Arguments.of(
            "wrong type",
            "runtime:\n  skip-log-every: often\n" + TRAINER_ENTRY,
            "runtime.skip-log-every must be an integer"),
        Arguments.of("section not a mapping", "kafka: [a, b]\n" + TRAINER_ENTRY, "kafka must be"),
        Arguments.of(
            "registry URL not http",
            "schema-registry:\n  urls: ftp://registry\n" + TRAINER_ENTRY,
            "schema-registry.urls"),
        Arguments.of(
            "negative width",
            TRAINER_ENTRY.replace("d-in: 8", "d-in: -3"),
            "trainers[0].d-in must be > 0, was -3"),
        Arguments.of(
            "width of the wrong type",
            TRAINER_ENTRY.replace("d-in: 8", "d-in: wide"),
            "trainers[0].d-in must be an integer"),
        Arguments.of(
            "negative batch size",
            TRAINER_ENTRY + "    batch-size: -1\n",
            "trainers[0].batch-size must be > 0"),
        Arguments.of(
            "unknown sparsity rule",
            TRAINER_ENTRY + "    rule: relu\n",
            "trainers[0].rule must be one of"),
        Arguments.of(
            "k above d-sae", TRAINER_ENTRY.replace("k: 4", "k: 32"), "trainers[0].k must be in"),
        Arguments.of(
            "unknown trainer key", TRAINER_ENTRY + "    learning-rate: 1e-3\n", "learning-rate"),
        Arguments.of(
            "missing required key",
            TRAINER_ENTRY.replace("    hook-name: h\n", ""),
            "trainers[0].hook-name is required"),
        Arguments.of("no trainers", "runtime:\n  device: cpu\n", "trainers"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badTrainerConfigs")
  void aBadTrainerValueFailsAtStartNamingTheKey(String name, String yaml, String expected)
      throws IOException {
    Path file = write("trainer.yaml", yaml);

    failsNamingTheKey(
        run(SaeStreamCommand.commandLine(), "trainer", "--config", file.toString()), expected);
  }

  @Test
  void aBadTrainerEnvironmentOverrideFailsAtStartNamingTheKey() throws IOException {
    Path file = write("trainer.yaml", TRAINER_ENTRY);
    CommandLine cli =
        new CommandLine(new TrainerCommand(Map.of("SAE_STREAM_RUNTIME_DEVICE", "tpu")));

    failsNamingTheKey(run(cli, "--config", file.toString()), "runtime.device");
  }

  @Test
  void aMissingTrainerConfigFailsAtStartNamingTheFile() {
    Path missing = dir.resolve("absent.yaml");

    failsNamingTheKey(
        run(SaeStreamCommand.commandLine(), "trainer", "--config", missing.toString()),
        "absent.yaml");
  }
}
