package io.saestream.launcher.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.saestream.launcher.SaeStreamCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** The SAE shape options every bench command shares: names, per-command defaults, checks. */
class SaeShapeOptionsTest {

  private static SaeShapeOptions parse(CommandLine cli, String... args) {
    CommandLine.ParseResult bench = cli.parseArgs(args).subcommand();
    Object command = bench.subcommand().commandSpec().userObject();
    if (command instanceof AnalyzeBench a) {
      return a.shape;
    }
    if (command instanceof EndToEndBench e) {
      return e.shape;
    }
    if (command instanceof TrainBench t) {
      return t.shape;
    }
    return ((LargeExportBench) command).shape;
  }

  @ParameterizedTest
  @CsvSource({
    "analyze, 768, 16384, 32",
    "e2e, 768, 16384, 32",
    "train, 768, 16384, 32",
    "export-large, 4096, 131072, 32",
  })
  void eachCommandKeepsItsDefaultsAndTakesTheOptions(String name, int dIn, int dSae, int k) {
    List<String> args = new ArrayList<>(List.of("bench", name));
    if (name.equals("export-large")) {
      args.addAll(List.of("--work-dir", "unused"));
    }
    SaeShapeOptions defaults = parse(SaeStreamCommand.commandLine(), args.toArray(String[]::new));
    assertThat(new int[] {defaults.dIn, defaults.dSae, defaults.k}).containsExactly(dIn, dSae, k);

    args.addAll(List.of("--d-in", "16", "--d-sae", "64", "--k", "4"));
    SaeShapeOptions given = parse(SaeStreamCommand.commandLine(), args.toArray(String[]::new));
    assertThat(new int[] {given.dIn, given.dSae, given.k}).containsExactly(16, 64, 4);
  }

  @Test
  void aReusedCommandLineFallsBackToTheDefaults() {
    CommandLine cli = SaeStreamCommand.commandLine();
    assertThat(parse(cli, "bench", "analyze", "--d-in", "16").dIn).isEqualTo(16);
    assertThat(parse(cli, "bench", "analyze").dIn).isEqualTo(768);
  }

  @ParameterizedTest
  @CsvSource({"analyze", "export-large"})
  void theOtherBenchesRefuseANonPositiveSizeBeforeDoingAnything(String name, @TempDir Path dir) {
    StringWriter err = new StringWriter();
    CommandLine cli = SaeStreamCommand.commandLine();
    cli.setErr(new PrintWriter(err, true));
    List<String> args = new ArrayList<>(List.of("bench", name, "--d-sae", "-1"));
    if (name.equals("export-large")) {
      args.addAll(List.of("--work-dir", dir.toString()));
    }
    int code = cli.execute(args.toArray(String[]::new));
    assertThat(code).isNotZero();
    assertThat(err.toString()).contains("--d-sae must be > 0, was -1");
    assertThat(dir).as("nothing generated").isEmptyDirectory();
  }

  @ParameterizedTest
  @CsvSource({
    "--d-in,0,--d-in must be > 0, was 0",
    "--d-sae,-4,--d-sae must be > 0, was -4",
    "--k,0,--k must be > 0, was 0",
  })
  void endToEndRefusesANonPositiveSizeBeforeStartingAnything(
      String option, String value, String message) {
    StringWriter err = new StringWriter();
    CommandLine cli = SaeStreamCommand.commandLine();
    cli.setErr(new PrintWriter(err, true));
    // --monitoring is checked after the sizes: if a size got through, the run still stops there
    // (with the wrong message), before any broker starts.
    int code = cli.execute("bench", "e2e", option, value, "--monitoring", "neither");
    assertThat(code).isNotZero();
    assertThat(err.toString()).contains(message);
  }
}
