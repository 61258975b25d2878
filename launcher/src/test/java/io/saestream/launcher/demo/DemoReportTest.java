package io.saestream.launcher.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoReportTest {

  @TempDir Path dir;

  private static DemoProgress.Point point(double seconds, double fvu, long version) {
    return new DemoProgress.Point(seconds, 4000, fvu, fvu * 0.8, 8, version);
  }

  private static DemoProgress.Alert alert(double seconds, String rule) {
    return new DemoProgress.Alert(seconds, rule, 1, null, 2.0, 1.5);
  }

  private static DemoReport report(List<DemoProgress.Alert> alerts) {
    return new DemoReport(
        40,
        "duration reached",
        160_000,
        new DemoReport.Batches(2500, 2497, 2),
        List.of(point(0.5, 0.9, 0), point(10.5, 0.6, 1), point(20.5, 5.0, 2), point(30.5, 0.4, 3)),
        List.of(point(0, 0.91, 0), point(9, 0.62, 1), point(17, 0.55, 2), point(25, 0.41, 3)),
        Map.of(0L, 0.0, 1L, 9.0, 2L, 17.0, 3L, 25.0),
        alerts,
        3,
        4,
        List.of(
            new DemoReport.Incident("burst of feature 3 at 13s", "burst-feature", 13, 14, 45),
            new DemoReport.Incident("drift at 18s for 6s", "drift-fvu", 18, 24, 46)),
        List.of(new RuleCalibration(0, 17, 4.0, 2.0, 0.9, 5.0)));
  }

  @Test
  void summaryComparesTheFirstAndLastPublishedVersionsOnNormalTraffic() {
    String summary = report(List.of()).summary();

    assertThat(summary)
        .contains("=== sae-stream demo summary (40 s, duration reached) ===")
        .contains("initial SAE (version 0): FVU 0.9100")
        .contains(
            "first published version 1: FVU 0.6200; last published version 3: FVU 0.4100"
                + " (served, on normal traffic)");
  }

  @Test
  void summaryAccountsForEveryProducedBatch() {
    assertThat(report(List.of()).summary())
        .contains("batches: produced 2500, processed 2497, dead-lettered 2, unaccounted 1");
  }

  @Test
  void alertsCountForAnIncidentOnlyWhenTheirRuleMatchesWithinItsSpan() {
    DemoReport r =
        report(
            List.of(
                alert(13.4, "burst-feature"),
                alert(25.0, "drift-fvu"),
                alert(30.0, "drift-fvu"),
                // Wrong rule for the burst's span, and before any incident.
                alert(14.0, "other-rule"),
                alert(5.0, "drift-fvu")));

    assertThat(r.alertsFor(r.incidents().get(0))).isEqualTo(1);
    assertThat(r.alertsFor(r.incidents().get(1))).isEqualTo(2);
    assertThat(r.summary())
        .contains("alerts for burst of feature 3 at 13s (rule burst-feature): 1, first 0.4 s after")
        .contains("alerts for drift at 18s for 6s (rule drift-fvu): 2, first 7.0 s after")
        .contains("alerts in total: 5, outside incidents: 2");
  }

  @Test
  void summarySaysWhenAnIncidentWasNotAlerted() {
    assertThat(report(List.of()).summary())
        .contains("alerts for burst of feature 3 at 13s (rule burst-feature): 0\n");
  }

  @Test
  void htmlReportPlotsFvuWithSwapsIncidentsAndAlertTimeline() throws Exception {
    DemoReport r = report(List.of(alert(13.4, "burst-feature"), alert(25, "drift-fvu")));
    Path html = r.write(dir);

    String text = Files.readString(html);
    assertThat(text).startsWith("<!DOCTYPE html>").contains("<polyline");
    // One marker per trained version swapped in, none for the initial SAE.
    assertThat(count(text, "class=\"swap\"")).isEqualTo(3);
    assertThat(text).contains(">v1</text>").contains(">v3</text>");
    // Two charts, each shading both incidents.
    assertThat(count(text, "<svg")).isEqualTo(2);
    assertThat(count(text, "class=\"incident\"")).isEqualTo(4);
    assertThat(count(text, "class=\"alert\"")).isEqualTo(2);
    assertThat(text).contains("<td>v0</td><td>17</td>");
    assertThat(Files.readString(dir.resolve("summary.txt"))).isEqualTo(r.summary());
  }

  @Test
  void htmlEscapesRuleIds() {
    String text = report(List.of(alert(1, "<script>x</script>"))).html();

    assertThat(text).doesNotContain("<script>").contains("&lt;script&gt;");
  }

  private static int count(String text, String needle) {
    int n = 0;
    for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
      n++;
    }
    return n;
  }
}
