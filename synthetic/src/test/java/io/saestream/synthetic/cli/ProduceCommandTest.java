package io.saestream.synthetic.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.saestream.schema.v1.Dtype;
import io.saestream.synthetic.encoding.NpyActivationFile;
import io.saestream.synthetic.incident.IncidentSchedule;
import io.saestream.synthetic.produce.ProduceLimits;
import io.saestream.synthetic.produce.ProduceSummary;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

class ProduceCommandTest {

  @TempDir Path dir;

  private final List<ProduceSettings> ran = new ArrayList<>();

  /** What one invocation printed and returned. */
  private record Outcome(int exitCode, String out, String err) {}

  private Outcome run(Map<String, String> env, ProduceCommand.Runner runner, String... args) {
    CommandLine cl =
        ProduceExceptionHandler.install(new CommandLine(new ProduceCommand(env, runner)));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Outcome(code, out.toString(), err.toString());
  }

  private Outcome run(Map<String, String> env, String... args) {
    return run(
        env,
        (settings, out) -> {
          ran.add(settings);
          return new ProduceSummary(0, 0, 0, Duration.ZERO);
        },
        args);
  }

  private ProduceSettings resolved(Map<String, String> env, String... args) {
    Outcome outcome = run(env, args);
    assertThat(outcome.exitCode()).as(outcome.err()).isZero();
    assertThat(ran).hasSize(1);
    return ran.get(0);
  }

  @Test
  void helpListsEveryOptionAndTheEnvironmentOverrides() {
    Outcome outcome = run(Map.of(), "--help");
    assertThat(outcome.exitCode()).isZero();
    assertThat(outcome.out())
        .contains(
            "--bootstrap-servers",
            "--registry-url",
            "--topic",
            "--model-id",
            "--hook-name",
            "--d-in",
            "--features",
            "--seed",
            "--tokens-per-record",
            "--rate",
            "--duration",
            "--count",
            "--dtype",
            "--incidents",
            "--replay",
            "--config",
            "--producer-property",
            "SAE_STREAM_<OPTION>",
            "max.message.bytes");
    assertThat(ran).isEmpty();
  }

  @Test
  void defaultsProduceSyntheticTrafficToTheContractTopic() {
    ProduceSettings s = resolved(Map.of());
    assertThat(s.producer().bootstrapServers()).isEqualTo("localhost:9092");
    assertThat(s.producer().registry().baseUrls())
        .containsExactly(URI.create("http://localhost:8081"));
    assertThat(s.producer().topic()).isEqualTo("sae.activations.v1");
    assertThat(s.producer().extraProperties()).isEmpty();
    assertThat(s.limits()).isEqualTo(ProduceLimits.unlimited());
    assertThat(s.template().modelId()).isEqualTo("synthetic-llm");
    assertThat(s.template().hookName()).isEqualTo("blocks.8.hook_resid_pre");
    assertThat(s.template().dtype()).isEqualTo(Dtype.F32);
    assertThat(s.template().attributes()).containsExactly(Map.entry("tenant", "synthetic"));
    ProduceSettings.Synthetic source = (ProduceSettings.Synthetic) s.source();
    assertThat(source.model().dIn()).isEqualTo(512);
    assertThat(source.model().features()).isEqualTo(4096);
    assertThat(source.model().seed()).isEqualTo(42);
    assertThat(source.sequences().tokensPerRecord()).isEqualTo(64);
    assertThat(source.sequences().sequenceIdPrefix()).isEqualTo("seq-42-");
    assertThat(source.incidents().isEmpty()).isTrue();
  }

  @Test
  void everyOptionReachesTheSettings() {
    ProduceSettings s =
        resolved(
            Map.of(),
            "--bootstrap-servers=k1:9092,k2:9092",
            "--registry-url=http://r1:8081,http://r2:8081",
            "--topic=acts",
            "--model-id=gpt2-small",
            "--hook-name=blocks.6.hook_resid_post",
            "--d-in=768",
            "--features=6144",
            "--mean-active=12",
            "--zipf-exponent=0.8",
            "--snr=inf",
            "--seed=7",
            "--tokens-per-record=128",
            "--rate=5000",
            "--duration=2m",
            "--count=1000",
            "--dtype=bf16",
            "--incidents=burst@30s:feature=17,tokens=20;drift@60s+20s:scale=3",
            "--tenant=acme",
            "--linger=20ms",
            "--batch-size=2097152",
            "--max-request-size=16777216",
            "--compression=zstd",
            "--producer-property=security.protocol=SSL");
    assertThat(s.producer().bootstrapServers()).isEqualTo("k1:9092,k2:9092");
    assertThat(s.producer().registry().baseUrls()).hasSize(2);
    assertThat(s.producer().topic()).isEqualTo("acts");
    assertThat(s.producer().linger()).isEqualTo(Duration.ofMillis(20));
    assertThat(s.producer().batchSizeBytes()).isEqualTo(2 << 20);
    assertThat(s.producer().maxRequestSizeBytes()).isEqualTo(16 << 20);
    assertThat(s.producer().compressionType()).isEqualTo("zstd");
    assertThat(s.producer().extraProperties())
        .containsExactly(Map.entry("security.protocol", "SSL"));
    assertThat(s.limits()).isEqualTo(new ProduceLimits(1000, Duration.ofMinutes(2), 5000));
    assertThat(s.template().modelId()).isEqualTo("gpt2-small");
    assertThat(s.template().hookName()).isEqualTo("blocks.6.hook_resid_post");
    assertThat(s.template().dtype()).isEqualTo(Dtype.BF16);
    assertThat(s.template().attributes()).containsEntry("tenant", "acme");
    ProduceSettings.Synthetic source = (ProduceSettings.Synthetic) s.source();
    assertThat(source.model().dIn()).isEqualTo(768);
    assertThat(source.model().features()).isEqualTo(6144);
    assertThat(source.model().meanActive()).isEqualTo(12);
    assertThat(source.model().zipfExponent()).isEqualTo(0.8);
    assertThat(source.model().snr()).isInfinite();
    assertThat(source.model().seed()).isEqualTo(7);
    assertThat(source.sequences().tokensPerRecord()).isEqualTo(128);
    assertThat(source.incidents())
        .isEqualTo(IncidentSchedule.parse("burst@30s:feature=17,tokens=20;drift@60s+20s:scale=3"));
  }

  @Test
  void commandLineBeatsEnvironmentBeatsConfigFileBeatsDefault() throws IOException {
    Path config = dir.resolve("produce.properties");
    Files.writeString(
        config,
        """
        d-in=128
        topic=from-file
        features=2048
        kafka.security.protocol=SSL
        kafka.linger.ms=7
        """);
    Map<String, String> env = new HashMap<>();
    env.put("SAE_STREAM_CONFIG", config.toString());
    env.put("SAE_STREAM_D_IN", "256");
    env.put("SAE_STREAM_FEATURES", "1024");

    ProduceSettings s = resolved(env, "--d-in", "64", "--producer-property", "linger.ms=9");
    ProduceSettings.Synthetic source = (ProduceSettings.Synthetic) s.source();
    assertThat(source.model().dIn()).isEqualTo(64); // command line
    assertThat(source.model().features()).isEqualTo(1024); // environment
    assertThat(s.producer().topic()).isEqualTo("from-file"); // config file
    assertThat(s.template().modelId()).isEqualTo("synthetic-llm"); // default
    assertThat(s.producer().extraProperties())
        .containsEntry("security.protocol", "SSL")
        .containsEntry("linger.ms", "9");

    ran.clear();
    ProduceSettings fromEnv = resolved(env, "--config", config.toString());
    assertThat(((ProduceSettings.Synthetic) fromEnv.source()).model().dIn()).isEqualTo(256);
  }

  @Test
  void replayTakesItsWidthFromTheFileUnlessOneIsGiven() {
    ProduceSettings.Replay replay =
        (ProduceSettings.Replay) resolved(Map.of(), "--replay", "acts.npy").source();
    assertThat(replay.file()).isEqualTo(Path.of("acts.npy"));
    assertThat(replay.expectedDIn()).isNull();
    assertThat(replay.sequenceLength()).isEqualTo(1024);
    ran.clear();
    replay =
        (ProduceSettings.Replay)
            resolved(
                    Map.of(),
                    "--replay",
                    "acts.npy",
                    "--d-in",
                    "16",
                    "--replay-sequence-length",
                    "9")
                .source();
    assertThat(replay.expectedDIn()).isEqualTo(16);
    assertThat(replay.sequenceLength()).isEqualTo(9);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          --d-in abc | --d-in must be an integer, was 'abc'
          --d-in -3 | --d-in must be > 0, was -3
          --features 0 | --features must be > 0, was 0
          --dtype F64 | --dtype must be F32, F16 or BF16, was 'F64'
          --incidents burst@x:feature=1 | --incidents must be an incident schedule, was 'burst@x:feature=1': incident 1 'burst@x:feature=1': time 'x' is not a duration
          --incidents burst@1s:feature=5000 | --incidents: incident 'burst@1s:feature=5000,tokens=16,magnitude=10.0' targets feature 5000, but the model has 4096 features
          --duration soon | --duration must be a duration such as 30s or 5m, was 'soon'
          --duration 0s | duration must be > 0, was PT0S
          --count 0 | --count must be > 0, was 0
          --count many | --count must be an integer, was 'many'
          --rate -1 | --rate must be >= 0.0, was -1.0
          --snr 0 | --snr must be a number > 0 or inf, was '0': the signal-to-noise ratio must be > 0
          --zipf-exponent -1 | --zipf-exponent must be >= 0.0, was -1.0
          --features 100 --mean-active 60 | mean active features must be in (0, features × max firing probability = 50.0], was 60.0
          --replay x.npy --incidents burst@1s:feature=1 | --incidents needs generated traffic and cannot be combined with --replay
          --d-in 4096 --tokens-per-record 256 --max-request-size 1000000 | a record of 256 tokens × d_in 4096 in F32 takes up to 4259840 bytes, more than --max-request-size 1000000
          --registry-url ftp://registry | --registry-url must be one or more comma-separated http(s) URLs, was 'ftp://registry': registry URL must be absolute http:// or https://, was 'ftp://registry'
          --compression brotli | compression must be one of [gzip, lz4, none, snappy, zstd], was 'brotli'
          --linger 5 | --linger must be a duration, was '5'
          --producer-property value.serializer=x | producer property 'value.serializer' is fixed by sae-stream and cannot be set
          --topic=  | --topic must not be blank
          --bogus | Unknown option: '--bogus'
          """)
  void usageErrorsExitWithTwoAndNameTheOption(String args, String message) {
    Outcome outcome = run(Map.of(), args.strip().split(" "));
    assertThat(outcome.exitCode()).isEqualTo(2);
    assertThat(outcome.err()).contains(message);
    assertThat(ran).isEmpty();
  }

  @Test
  void badEnvironmentValuesNameTheVariable() {
    Outcome outcome = run(Map.of("SAE_STREAM_D_IN", "wide"));
    assertThat(outcome.exitCode()).isEqualTo(2);
    assertThat(outcome.err()).contains("SAE_STREAM_D_IN must be an integer, was 'wide'");
  }

  @Test
  void badConfigFilesAreUsageErrors() throws IOException {
    Path typo = dir.resolve("typo.properties");
    Files.writeString(typo, "d_in=64\n");
    Outcome outcome = run(Map.of(), "--config", typo.toString());
    assertThat(outcome.exitCode()).isEqualTo(2);
    assertThat(outcome.err()).contains("unknown key 'd_in' in " + typo, "d-in");

    Path bad = dir.resolve("bad.properties");
    Files.writeString(bad, "d-in=lots\n");
    outcome = run(Map.of(), "--config", bad.toString());
    assertThat(outcome.exitCode()).isEqualTo(2);
    assertThat(outcome.err()).contains("'d-in' in " + bad + " must be an integer, was 'lots'");

    Path missing = dir.resolve("missing.properties");
    outcome = run(Map.of(), "--config", missing.toString());
    assertThat(outcome.exitCode()).isEqualTo(2);
    assertThat(outcome.err())
        .contains("--config: cannot read " + missing + ": no such file: " + missing);
    assertThat(ran).isEmpty();
  }

  @Test
  void aMissingReplayFileIsARuntimeError() {
    Path missing = dir.resolve("nope.npy");
    Outcome outcome = run(Map.of(), ProduceCommand::execute, "--replay", missing.toString());
    assertThat(outcome.exitCode()).isEqualTo(1);
    assertThat(outcome.err().strip()).isEqualTo("error: no such file: " + missing);
  }

  @Test
  void aReplayFileThatIsNotNpyIsARuntimeError() throws IOException {
    Path text = dir.resolve("text.npy");
    Files.writeString(text, "not numbers");
    Outcome outcome = run(Map.of(), ProduceCommand::execute, "--replay", text.toString());
    assertThat(outcome.exitCode()).isEqualTo(1);
    assertThat(outcome.err()).contains("error: " + text + ": not a .npy file");
  }

  @Test
  void aReplayWidthThatDoesNotMatchTheFileIsARuntimeError() throws IOException {
    Path file = dir.resolve("three.npy");
    NpyActivationFile.write(file, new float[6], 2, 3);
    Outcome outcome =
        run(Map.of(), ProduceCommand::execute, "--replay", file.toString(), "--d-in", "16");
    assertThat(outcome.exitCode()).isEqualTo(1);
    assertThat(outcome.err()).contains("error: --d-in 16 does not match d_in 3 of " + file);
  }

  @Test
  void aFailingRunExitsWithOne() {
    Outcome outcome =
        run(
            Map.of(),
            (settings, out) -> {
              throw new IllegalStateException("broker unreachable");
            });
    assertThat(outcome.exitCode()).isEqualTo(1);
    assertThat(outcome.err().strip()).isEqualTo("error: broker unreachable");
  }
}
