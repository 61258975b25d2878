package io.saestream.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TrainerCommandTest {

  private record Result(int exit, String out, String err) {}

  private static Result run(Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new TrainerCommand(env));
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int exit = cli.execute(args);
    return new Result(exit, out.toString(), err.toString());
  }

  @Test
  void helpDescribesTheConfigOption() {
    Result r = run(Map.of(), "--help");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains("trainer", "--config", "<file>");
  }

  @Test
  void missingConfigOptionIsAUsageError() {
    Result r = run(Map.of());
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("--config");
  }

  @Test
  void badConfigExitsWithTwoNamingTheKey(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("t.yaml");
    Files.writeString(
        file,
        """
        trainers:
          - sae-id: s1
            model-id: m
            hook-name: h
            d-in: -3
            d-sae: 64
            k: 4
        """);
    Result r = run(Map.of(), "--config", file.toString());
    assertThat(r.exit()).isEqualTo(TrainerCommand.EXIT_BAD_CONFIG);
    assertThat(r.err()).contains("trainers[0].d-in must be > 0, was -3");
  }

  @Test
  void badEnvironmentOverrideExitsWithTwoNamingTheKey(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("t.yaml");
    Files.copy(Path.of("config/trainer.example.yaml"), file);
    Result r = run(Map.of("SAE_STREAM_RUNTIME_DEVICE", "tpu"), "--config", file.toString());
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("runtime.device must be one of");
  }

  @Test
  void unreadableConfigExitsWithTwo(@TempDir Path dir) {
    Result r = run(Map.of(), "--config", dir.resolve("nope.yaml").toString());
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("nope.yaml");
  }
}
