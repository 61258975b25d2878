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

/**
 * The shortened demo CI runs, end to end at a small size: it must run to exit 0, swap in trained
 * versions that reconstruct better than the first, alert on both staged incidents, lose no batch
 * and write the report. The schedule puts each incident a few seconds after a publication (every 8
 * s), so that the served version is settled when it starts.
 */
class DemoIT {

  @TempDir Path reports;

  @Test
  void shortDemoLearnsAlertsOnBothIncidentsAndWritesAReport() throws Exception {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cli = SaeStreamCommand.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));

    int code =
        cli.execute(
            SmallDemo.arguments(
                    "--duration",
                    "40s",
                    "--publish-every",
                    "8s",
                    "--burst-at",
                    "13s",
                    "--drift-at",
                    "18s",
                    "--drift-for",
                    "6s",
                    "--report-dir",
                    reports.toString())
                .toArray(String[]::new));
    System.out.println(out);

    assertThat(code).as("exit code; stderr: %s", err).isZero();
    String text = out.toString();
    assertThat(number(text, "swaps: (\\d+)")).isGreaterThanOrEqualTo(2);
    assertThat(number(text, "tokens processed: (\\d+)")).isGreaterThan(0);

    Matcher versions =
        Pattern.compile(
                "first published version (\\d+): FVU ([0-9.]+); last published version (\\d+):"
                    + " FVU ([0-9.]+)")
            .matcher(text);
    assertThat(versions.find()).as("per-version FVU line in the summary").isTrue();
    assertThat(Long.parseLong(versions.group(3))).isGreaterThan(Long.parseLong(versions.group(1)));
    assertThat(Double.parseDouble(versions.group(4)))
        .as("the last served version reconstructs normal traffic better than the first")
        .isLessThan(Double.parseDouble(versions.group(2)));

    assertThat(
            number(text, "alerts for burst of feature 3 at 13s \\(rule burst-feature\\): (\\d+)"))
        .isGreaterThanOrEqualTo(1);
    assertThat(number(text, "alerts for drift at 18s for 6s \\(rule drift-fvu\\): (\\d+)"))
        .isGreaterThanOrEqualTo(1);

    DemoBatchAccounting batches = DemoBatchAccounting.in(text);
    assertThat(batches.produced()).isPositive();
    assertThat(batches.produced())
        .as("nothing lost: produced = processed + dead-lettered")
        .isEqualTo(batches.processed() + batches.deadLettered());

    String html = Files.readString(reports.resolve("report.html"));
    assertThat(html).contains("<svg").contains("polyline").contains("class=\"swap\"");
    assertThat(html).contains("class=\"alert\"").contains("class=\"incident\"");
    assertThat(reports.resolve("summary.txt")).exists();
  }

  private static long number(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertThat(m.find()).as("'%s' in the output", regex).isTrue();
    return Long.parseLong(m.group(1));
  }
}
