package io.saestream.launcher.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.saestream.launcher.SaeStreamCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo end to end at a small size: it must run to exit 0, swap and process tokens. */
class DemoIT {

  @TempDir Path reports;

  @Test
  void shortDemoSwapsAndWritesAReport() throws Exception {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cli = SaeStreamCommand.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));

    int code =
        cli.execute(
            "demo",
            "--duration",
            "40s",
            "--d-in",
            "64",
            "--d-sae",
            "256",
            "--k",
            "8",
            "--publish-every",
            "8s",
            "--burst-at",
            "12s",
            "--drift-at",
            "22s",
            "--drift-for",
            "8s",
            "--report-dir",
            reports.toString());
    System.out.println(out);

    assertThat(code).as("exit code; stderr: %s", err).isZero();
    String text = out.toString();
    assertThat(number(text, "swaps: (\\d+)")).isGreaterThanOrEqualTo(1);
    assertThat(number(text, "tokens processed: (\\d+)")).isGreaterThan(0);
    assertThat(reports.resolve("report.html")).exists();
    assertThat(Files.readString(reports.resolve("report.html")))
        .contains("<svg")
        .contains("polyline");
  }

  private static long number(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertThat(m.find()).as("'%s' in the output", regex).isTrue();
    return Long.parseLong(m.group(1));
  }
}
