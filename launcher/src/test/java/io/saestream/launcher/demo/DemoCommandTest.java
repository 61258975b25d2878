package io.saestream.launcher.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.saestream.launcher.SaeStreamCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DemoCommandTest {

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cli = SaeStreamCommand.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void helpDescribesTheDemo() {
    assertThat(run("demo", "--help")).isZero();
    assertThat(out.toString()).contains("--duration").contains("--report-dir");
  }

  @Test
  void helpDocumentsCtrlCAndTheExitStatusAfterASignal() {
    assertThat(run("demo", "--help")).isZero();
    assertThat(out.toString().replaceAll("\\s+", " "))
        .contains("Ctrl-C (or SIGTERM) stops it cleanly within 10 s")
        .contains("exits with 0, as --duration does");
  }

  @Test
  void rejectsBurstFeatureTheGeneratorLacks() {
    assertThat(run("demo", "--d-sae", "64", "--burst-feature", "32")).isEqualTo(2);
    assertThat(err.toString()).contains("--burst-feature must be in [0, 32)");
  }

  @Test
  void rejectsNegativeBurstFeature() {
    assertThat(run("demo", "--burst-feature", "-1")).isEqualTo(2);
    assertThat(err.toString()).contains("--burst-feature must be in [0, 256)");
  }

  @Test
  void rejectsNonPositiveBurstMagnitude() {
    assertThat(run("demo", "--burst-magnitude", "0")).isEqualTo(2);
    assertThat(err.toString()).contains("--burst-magnitude must be > 0, was 0.0");
  }

  @Test
  void rejectsNonNumericTokensPerSecond() {
    assertThat(run("demo", "--tokens-per-second", "fast")).isEqualTo(2);
    assertThat(err.toString()).contains("--tokens-per-second");
  }

  @Test
  void rejectsNonPositiveWidth() {
    assertThat(run("demo", "--d-in", "0")).isEqualTo(2);
    assertThat(err.toString()).contains("--d-in must be > 0");
  }

  @Test
  void rejectsKAboveLatents() {
    assertThat(run("demo", "--d-sae", "8", "--k", "16")).isEqualTo(2);
    assertThat(err.toString()).contains("--k must be <= --d-sae");
  }

  @Test
  void rejectsZeroDuration() {
    assertThat(run("demo", "--duration", "0s")).isEqualTo(2);
    assertThat(err.toString()).contains("must be > 0");
  }
}
