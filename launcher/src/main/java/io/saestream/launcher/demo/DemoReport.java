package io.saestream.launcher.demo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The end of a demo run: the console summary and an HTML report with two inline SVG charts, FVU
 * over time with the version swaps and incidents marked, and the alert timeline, plus tables of
 * versions, rule calibrations and alerts. Immutable; renders from its inputs only.
 *
 * @param seconds how long the demo ran
 * @param stopReason why it stopped (duration reached, stop requested)
 * @param tokens tokens whose reconstruction stats were read
 * @param batches what happened to the produced activation batches
 * @param timeline per-second means by event time, in time order
 * @param perVersion means per served SAE version on normal traffic
 * @param versionsFirstSeen when each version served its first batch, by version
 * @param alerts the alerts read
 * @param swaps checkpoint swaps the app made
 * @param published versions the trainer published
 * @param incidents the staged incidents
 * @param calibrations the alert-rule calibration of each served version, in order
 */
record DemoReport(
    double seconds,
    String stopReason,
    long tokens,
    Batches batches,
    List<DemoProgress.Point> timeline,
    List<DemoProgress.Point> perVersion,
    Map<Long, Double> versionsFirstSeen,
    List<DemoProgress.Alert> alerts,
    long swaps,
    int published,
    List<Incident> incidents,
    List<RuleCalibration> calibrations) {

  /**
   * The fate of the produced activation batches: every batch the producer had acknowledged should
   * be either processed (its reconstruction stats committed) or dead-lettered.
   */
  record Batches(long produced, long processed, long deadLettered) {
    /** Batches neither processed nor dead-lettered when the demo stopped. */
    long unaccounted() {
      return produced - processed - deadLettered;
    }
  }

  /**
   * A staged incident and the rule that should alert on it.
   *
   * @param name what it is, for people
   * @param ruleId the rule whose alerts it explains
   * @param from onset, seconds after the start
   * @param to end of the incident itself
   * @param alertUntil until when an alert of {@code ruleId} is attributed to it (window, grace)
   */
  record Incident(String name, String ruleId, double from, double to, double alertUntil) {
    boolean explains(DemoProgress.Alert a) {
      return a.ruleId().equals(ruleId) && a.seconds() >= from && a.seconds() <= alertUntil;
    }
  }

  /** Copies the collections. */
  DemoReport {
    timeline = List.copyOf(timeline);
    perVersion = List.copyOf(perVersion);
    versionsFirstSeen = Map.copyOf(versionsFirstSeen);
    alerts = List.copyOf(alerts);
    incidents = List.copyOf(incidents);
    calibrations = List.copyOf(calibrations);
  }

  /** The served versions after the initial one, on normal traffic, by version. */
  List<DemoProgress.Point> trainedVersions() {
    return perVersion.stream().filter(p -> p.version() > 0 && p.tokens() > 0).toList();
  }

  /** The console summary, one fact per line. */
  String summary() {
    StringBuilder s = new StringBuilder();
    s.append(
        String.format(
            Locale.ROOT, "=== sae-stream demo summary (%.0f s, %s) ===%n", seconds, stopReason));
    s.append(String.format(Locale.ROOT, "tokens processed: %d%n", tokens));
    s.append(
        String.format(
            Locale.ROOT,
            "batches: produced %d, processed %d, dead-lettered %d, unaccounted %d%n",
            batches.produced(),
            batches.processed(),
            batches.deadLettered(),
            batches.unaccounted()));
    s.append(String.format(Locale.ROOT, "versions published: %d%n", published));
    s.append(String.format(Locale.ROOT, "swaps: %d%n", swaps));
    perVersion.stream()
        .filter(p -> p.version() == 0)
        .findFirst()
        .ifPresent(
            initial ->
                s.append(
                    String.format(
                        Locale.ROOT,
                        "initial SAE (version 0): FVU %.4f, mean relative error %.4f%n",
                        initial.fvu(),
                        initial.relativeError())));
    List<DemoProgress.Point> trained = trainedVersions();
    if (!trained.isEmpty()) {
      DemoProgress.Point first = trained.get(0);
      DemoProgress.Point last = trained.get(trained.size() - 1);
      s.append(
          String.format(
              Locale.ROOT,
              "first published version %d: FVU %.4f; last published version %d: FVU %.4f"
                  + " (served, on normal traffic)%n",
              first.version(),
              first.fvu(),
              last.version(),
              last.fvu()));
    }
    for (Incident incident : incidents) {
      List<DemoProgress.Alert> explained = alerts.stream().filter(incident::explains).toList();
      s.append(
          String.format(
              Locale.ROOT,
              "alerts for %s (rule %s): %d%s%n",
              incident.name(),
              incident.ruleId(),
              explained.size(),
              explained.isEmpty()
                  ? ""
                  : String.format(
                      Locale.ROOT,
                      ", first %.1f s after the onset",
                      explained.get(0).seconds() - incident.from())));
    }
    s.append(
        String.format(
            Locale.ROOT,
            "alerts in total: %d, outside incidents: %d%n",
            alerts.size(),
            outsideIncidents().size()));
    return s.toString();
  }

  /** Alerts of {@code incident}'s rule within its attribution span. */
  long alertsFor(Incident incident) {
    return alerts.stream().filter(incident::explains).count();
  }

  private List<DemoProgress.Alert> outsideIncidents() {
    return alerts.stream().filter(a -> incidents.stream().noneMatch(i -> i.explains(a))).toList();
  }

  /**
   * Writes {@code report.html} and {@code summary.txt} under {@code dir}; returns the HTML file.
   */
  Path write(Path dir) {
    try {
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("summary.txt"), summary(), StandardCharsets.UTF_8);
      Path html = dir.resolve("report.html");
      Files.writeString(html, html(), StandardCharsets.UTF_8);
      return html;
    } catch (IOException e) {
      throw new UncheckedIOException("writing the demo report under " + dir, e);
    }
  }

  String html() {
    StringBuilder h = new StringBuilder();
    h.append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>sae-stream demo</title>")
        .append("<style>body{font-family:sans-serif;margin:2em;max-width:1000px}")
        .append(
            "table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #eee;")
        .append("text-align:right}th{background:#f6f6f6}svg{display:block;margin:1em 0}</style>")
        .append("</head><body><h1>sae-stream demo</h1><pre>")
        .append(escape(summary()))
        .append("</pre><h2>Reconstruction error over time</h2>")
        .append("<p>Token-weighted FVU per second of production time (log scale). Dashed lines:")
        .append(" a new SAE version serves its first batch. Shaded: the staged incidents.</p>")
        .append(fvuChart())
        .append("<h2>Alert timeline</h2>")
        .append(alertChart())
        .append("<h2>Versions</h2><table><tr><th>version</th><th>first batch (s)</th>")
        .append("<th>tokens (normal traffic)</th><th>FVU</th><th>mean relative error</th>")
        .append("<th>L0</th></tr>");
    for (DemoProgress.Point p : perVersion) {
      h.append(
          String.format(
              Locale.ROOT,
              "<tr><td>v%d</td><td>%.1f</td><td>%d</td><td>%.4f</td><td>%.4f</td><td>%.1f</td></tr>",
              p.version(),
              p.seconds(),
              p.tokens(),
              p.fvu(),
              p.relativeError(),
              p.l0()));
    }
    h.append("</table><h2>Alert rules per version</h2><table><tr><th>version</th>")
        .append(
            "<th>burst latent</th><th>burst level</th><th>normal level</th><th>min activation</th>")
        .append("<th>FVU normal</th><th>FVU drifted</th><th>drift threshold</th></tr>");
    RuleCalibration previous = null;
    for (RuleCalibration c : calibrations) {
      h.append(
          String.format(
              Locale.ROOT,
              "<tr><td>v%d</td><td>%d</td><td>%.3f</td><td>%.3f</td><td>%.3f</td><td>%.4f</td>"
                  + "<td>%.4f</td><td>%.4f</td></tr>",
              c.version(),
              c.burstLatent(),
              c.burstActivation(),
              c.quietActivation(),
              c.burstMinActivation(),
              c.baselineFvu(),
              c.driftFvu(),
              c.driftThreshold(previous)));
      previous = c;
    }
    h.append("</table><h2>Alerts</h2><table><tr><th>t (s)</th><th>rule</th><th>incident</th>")
        .append("<th>SAE version</th><th>latent</th><th>observed</th><th>threshold</th></tr>");
    for (DemoProgress.Alert a : alerts) {
      String incident =
          incidents.stream().filter(i -> i.explains(a)).map(Incident::name).findFirst().orElse("-");
      h.append(
          String.format(
              Locale.ROOT,
              "<tr><td>%.1f</td><td>%s</td><td>%s</td><td>%d</td><td>%s</td><td>%.4g</td>"
                  + "<td>%.4g</td></tr>",
              a.seconds(),
              escape(a.ruleId()),
              escape(incident),
              a.saeVersion(),
              a.latent() == null ? "-" : a.latent().toString(),
              a.observed(),
              a.threshold()));
    }
    return h.append("</table></body></html>\n").toString();
  }

  // ---------------------------------------------------------------------------------------------
  // Charts: plain SVG, so that the report opens anywhere without a network or a script.

  private static final int WIDTH = 900;
  private static final int PAD_LEFT = 50;
  private static final int PAD_RIGHT = 20;

  private double maxSeconds() {
    double max = Math.max(1, seconds);
    for (DemoProgress.Point p : timeline) {
      max = Math.max(max, p.seconds());
    }
    return max;
  }

  private double x(double t) {
    return PAD_LEFT + t / maxSeconds() * (WIDTH - PAD_LEFT - PAD_RIGHT);
  }

  private String fvuChart() {
    int height = 320;
    int top = 20;
    int bottom = height - 30;
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (DemoProgress.Point p : timeline) {
      if (Double.isFinite(p.fvu()) && p.fvu() > 0) {
        lo = Math.min(lo, p.fvu());
        hi = Math.max(hi, p.fvu());
      }
    }
    if (!(lo < hi)) {
      lo = 0.01;
      hi = 1;
    }
    double logLo = Math.floor(Math.log10(lo));
    double logHi = Math.ceil(Math.log10(hi));
    if (logHi <= logLo) {
      logHi = logLo + 1;
    }
    double finalLogLo = logLo;
    double span = logHi - logLo;
    java.util.function.DoubleUnaryOperator y =
        v -> bottom - (Math.log10(v) - finalLogLo) / span * (bottom - top);
    StringBuilder svg = svgStart(height);
    shadeIncidents(svg, top, bottom);
    for (double decade = logLo; decade <= logHi; decade++) {
      for (int m : new int[] {1, 2, 5}) {
        double v = m * Math.pow(10, decade);
        if (Math.log10(v) > logHi + 1e-9) {
          continue;
        }
        double yy = y.applyAsDouble(v);
        svg.append(
            String.format(
                Locale.ROOT,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%s</text>",
                PAD_LEFT,
                yy,
                WIDTH - PAD_RIGHT,
                yy,
                PAD_LEFT - 4,
                yy + 3,
                trim(v)));
      }
    }
    for (Map.Entry<Long, Double> v : new TreeMap<>(versionsFirstSeen).entrySet()) {
      if (v.getKey() == 0 || !Double.isFinite(v.getValue())) {
        continue;
      }
      double xx = x(Math.max(0, v.getValue()));
      svg.append(
          String.format(
              Locale.ROOT,
              "<line class=\"swap\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"green\""
                  + " stroke-dasharray=\"4\"/><text x=\"%.1f\" y=\"%d\" font-size=\"10\""
                  + " fill=\"green\">v%d</text>",
              xx,
              top,
              xx,
              bottom,
              xx + 2,
              top + 10,
              v.getKey()));
    }
    List<String> xy = new ArrayList<>();
    for (DemoProgress.Point p : timeline) {
      if (Double.isFinite(p.fvu()) && p.fvu() > 0) {
        xy.add(String.format(Locale.ROOT, "%.1f,%.1f", x(p.seconds()), y.applyAsDouble(p.fvu())));
      }
    }
    svg.append("<polyline fill=\"none\" stroke=\"steelblue\" stroke-width=\"2\" points=\"")
        .append(String.join(" ", xy))
        .append("\"/>");
    for (DemoProgress.Alert a : alerts) {
      svg.append(
          String.format(
              Locale.ROOT,
              "<path d=\"M%.1f %d l-4 8 h8 z\" fill=\"red\"><title>%s at %.1f s</title></path>",
              x(a.seconds()),
              bottom - 8,
              escape(a.ruleId()),
              a.seconds()));
    }
    timeAxis(svg, bottom, "FVU");
    return svg.append("</svg>").toString();
  }

  private String alertChart() {
    Set<String> rules = new LinkedHashSet<>();
    incidents.forEach(i -> rules.add(i.ruleId()));
    alerts.forEach(a -> rules.add(a.ruleId()));
    int lane = 28;
    int top = 10;
    int height = top + Math.max(1, rules.size()) * lane + 30;
    int bottom = height - 30;
    StringBuilder svg = svgStart(height);
    shadeIncidents(svg, top, bottom);
    int row = 0;
    for (String rule : rules) {
      double yy = top + row * lane + lane / 2.0;
      svg.append(
          String.format(
              Locale.ROOT,
              "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                  + "<text x=\"%d\" y=\"%.1f\" font-size=\"10\">%s</text>",
              PAD_LEFT,
              yy,
              WIDTH - PAD_RIGHT,
              yy,
              PAD_LEFT + 2,
              yy - 6,
              escape(rule)));
      for (DemoProgress.Alert a : alerts) {
        if (a.ruleId().equals(rule)) {
          svg.append(
              String.format(
                  Locale.ROOT,
                  "<circle class=\"alert\" cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"red\">"
                      + "<title>%s at %.1f s: %.4g (threshold %.4g), v%d</title></circle>",
                  x(a.seconds()),
                  yy,
                  escape(a.ruleId()),
                  a.seconds(),
                  a.observed(),
                  a.threshold(),
                  a.saeVersion()));
        }
      }
      row++;
    }
    timeAxis(svg, bottom, "");
    return svg.append("</svg>").toString();
  }

  private StringBuilder svgStart(int height) {
    return new StringBuilder(
        String.format(
            Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">"
                + "<rect width=\"100%%\" height=\"100%%\" fill=\"white\" stroke=\"#ccc\"/>",
            WIDTH,
            height));
  }

  private void shadeIncidents(StringBuilder svg, int top, int bottom) {
    for (Incident incident : incidents) {
      double x0 = x(incident.from());
      double x1 = x(Math.min(incident.to(), maxSeconds()));
      svg.append(
          String.format(
              Locale.ROOT,
              "<rect class=\"incident\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\""
                  + " fill=\"#fde\"><title>%s</title></rect>",
              x0,
              top,
              Math.max(2, x1 - x0),
              bottom - top,
              escape(incident.name())));
    }
  }

  private void timeAxis(StringBuilder svg, int bottom, String label) {
    double max = maxSeconds();
    double step = max <= 60 ? 10 : max <= 300 ? 30 : max <= 1200 ? 120 : 600;
    svg.append(
        String.format(
            Locale.ROOT,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>",
            PAD_LEFT,
            bottom,
            WIDTH - PAD_RIGHT,
            bottom));
    for (double t = 0; t <= max + 1e-9; t += step) {
      svg.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%.0f s</text>",
              x(t),
              bottom + 14,
              t));
    }
    if (!label.isEmpty()) {
      svg.append(
          String.format(
              Locale.ROOT, "<text x=\"4\" y=\"12\" font-size=\"10\">%s</text>", escape(label)));
    }
  }

  private static String trim(double v) {
    return v >= 1 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2g", v);
  }

  private static String escape(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
