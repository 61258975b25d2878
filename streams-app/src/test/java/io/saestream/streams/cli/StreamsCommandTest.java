package io.saestream.streams.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class StreamsCommandTest {

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cli = new CommandLine(new StreamsCommand(Map.of()));
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void helpDescribesTheCommand() {
    assertThat(run("--help")).isZero();
    assertThat(out.toString())
        .contains("Usage: streams")
        .contains("--config=<file>")
        .contains("SAE_STREAM_KAFKA_BOOTSTRAP_SERVERS");
  }

  @Test
  void theConfigFileIsRequired() {
    assertThat(run()).isEqualTo(2);
    assertThat(err.toString()).contains("Missing required option: '--config=<file>'");
  }

  @Test
  void anInvalidConfigurationExitsWithItsMessage(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(
        file, "streams:\n  max-tokens-per-record: -3\ndeployments: [{sae-id: a, path: p}]\n");

    assertThat(run("--config", file.toString())).isEqualTo(StreamsCommand.EXIT_INVALID_CONFIG);
    assertThat(err.toString())
        .contains("Invalid configuration")
        .contains("streams.max-tokens-per-record must be > 0, was -3");
  }
}
