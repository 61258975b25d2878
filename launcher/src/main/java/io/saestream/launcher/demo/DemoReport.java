package io.saestream.launcher.demo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The end of a demo run: the console summary and an HTML report with an inline SVG chart of FVU
 * over time (swap markers) and an alert timeline. Immutable; stateless apart from its inputs.
 *
 * @param seconds how long the demo ran
 * @param tokens tokens whose reconstruction stats were read
 * @param points per-interval means, in time order
 * @param perVersion means per served SAE version
 * @param alerts the alerts read
 * @param swaps checkpoint swaps the app made
 * @param published versions the trainer published
 * @param incidents the staged incidents: name and time span in seconds
 */
record DemoReport(
    double seconds,
    long tokens,
    List<DemoProgress.Point> points,
    List<DemoProgress.Point> perVersion,
    List<DemoProgress.Alert> alerts,
    long swaps,
    int published,
    List<Incident> incidents) {

  /** A staged incident, {@code from} to {@code to} seconds after the start. */
  record Incident(String name, double from, double to) {}

  /** Copies the lists. */
  DemoReport {
    points = List.copyOf(points);
    perVersion = List.copyOf(perVersion);
    alerts = List.copyOf(alerts);
    incidents = List.copyOf(incidents);
  }

  /** The console summary, one fact per line. */
  String summary() {
    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT, "=== sae-stream demo summary (%.0f s) ===%n", seconds));
    s.append(String.format(Locale.ROOT, "tokens processed: %d%n", tokens));
    s.append(String.format(Locale.ROOT, "versions published: %d%n", published));
    s.append(String.format(Locale.ROOT, "swaps: %d%n", swaps));
    List<DemoProgress.Point> trained = perVersion.stream().filter(p -> p.version() > 0).toList();
    if (!perVersion.isEmpty()) {
      DemoProgress.Point initial = perVersion.get(0);
      s.append(
          String.format(
              Locale.ROOT,
              "initial SAE (version %d): FVU %.4f, mean relative error %.4f%n",
              initial.version(),
              initial.fvu(),
              initial.relativeError()));
    }
    if (!trained.isEmpty()) {
      DemoProgress.Point first = trained.get(0);
      DemoProgress.Point last = trained.get(trained.size() - 1);
      s.append(
          String.format(
              Locale.ROOT,
              "first published version %d: FVU %.4f; last published version %d: FVU %.4f%n",
              first.version(),
              first.fvu(),
              last.version(),
              last.fvu()));
    }
    for (Incident incident : incidents) {
      s.append(
          String.format(
              Locale.ROOT,
              "alerts during %s (%.0f-%.0f s): %d%n",
              incident.name(),
              incident.from(),
              incident.to(),
              alertsDuring(incident)));
    }
    s.append(
        String.format(
            Locale.ROOT, "alerts in total: %d, outside incidents: %d%n", alerts.size(), outside()));
    return s.toString();
  }

  /** Alerts whose creation time falls in {@code incident}'s span. */
  long alertsDuring(Incident incident) {
    return alerts.stream()
        .filter(a -> a.seconds() >= incident.from() && a.seconds() <= incident.to())
        .count();
  }

  private long outside() {
    return alerts.stream()
        .filter(
            a ->
                incidents.stream().noneMatch(i -> a.seconds() >= i.from() && a.seconds() <= i.to()))
        .count();
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
        .append("<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px}</style>")
        .append("</head><body><h1>sae-stream demo</h1><pre>")
        .append(escape(summary()))
        .append("</pre><h2>FVU over time</h2>")
        .append(chart())
        .append("<h2>Alerts</h2><table><tr><th>t (s)</th><th>rule</th><th>SAE version</th>")
        .append("<th>observed</th><th>threshold</th></tr>");
    for (DemoProgress.Alert a : alerts) {
      h.append(
          String.format(
              Locale.ROOT,
              "<tr><td>%.1f</td><td>%s</td><td>%d</td><td>%.4g</td><td>%.4g</td></tr>",
              a.seconds(),
              escape(a.ruleId()),
              a.saeVersion(),
              a.observed(),
              a.threshold()));
    }
    return h.append("</table></body></html>\n").toString();
  }

  private String chart() {
    int width = 800;
    int height = 300;
    int pad = 40;
    double maxT = Math.max(1, seconds);
    double maxFvu = 0;
    for (DemoProgress.Point p : points) {
      if (Double.isFinite(p.fvu())) {
        maxFvu = Math.max(maxFvu, p.fvu());
      }
    }
    maxFvu = maxFvu > 0 ? maxFvu * 1.1 : 1;
    StringBuilder svg = new StringBuilder();
    svg.append(
        String.format(
            Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">"
                + "<rect width=\"100%%\" height=\"100%%\" fill=\"white\" stroke=\"#ccc\"/>",
            width,
            height));
    for (Incident incident : incidents) {
      double x0 = pad + incident.from() / maxT * (width - 2 * pad);
      double x1 = pad + Math.min(incident.to(), maxT) / maxT * (width - 2 * pad);
      svg.append(
          String.format(
              Locale.ROOT,
              "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#fde\"/>"
                  + "<text x=\"%.1f\" y=\"%d\" font-size=\"10\">%s</text>",
              x0,
              pad,
              Math.max(2, x1 - x0),
              height - 2 * pad,
              x0,
              pad - 4,
              escape(incident.name())));
    }
    List<String> xy = new ArrayList<>();
    long version = Long.MIN_VALUE;
    for (DemoProgress.Point p : points) {
      double x = pad + p.seconds() / maxT * (width - 2 * pad);
      if (Double.isFinite(p.fvu())) {
        double y = height - pad - p.fvu() / maxFvu * (height - 2 * pad);
        xy.add(String.format(Locale.ROOT, "%.1f,%.1f", x, y));
      }
      if (version != Long.MIN_VALUE && p.version() != version) {
        svg.append(
            String.format(
                Locale.ROOT,
                "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"green\""
                    + " stroke-dasharray=\"4\"/><text x=\"%.1f\" y=\"%d\" font-size=\"10\""
                    + " fill=\"green\">v%d</text>",
                x,
                pad,
                x,
                height - pad,
                x + 2,
                height - pad - 4,
                p.version()));
      }
      version = p.version();
    }
    for (DemoProgress.Alert a : alerts) {
      double x = pad + a.seconds() / maxT * (width - 2 * pad);
      svg.append(
          String.format(
              Locale.ROOT,
              "<circle cx=\"%.1f\" cy=\"%d\" r=\"3\" fill=\"red\"><title>%s</title></circle>",
              x,
              height - pad + 12,
              escape(a.ruleId())));
    }
    svg.append("<polyline fill=\"none\" stroke=\"steelblue\" stroke-width=\"2\" points=\"")
        .append(String.join(" ", xy))
        .append("\"/>")
        .append(
            String.format(
                Locale.ROOT,
                "<text x=\"4\" y=\"%d\" font-size=\"10\">FVU %.2f</text>"
                    + "<text x=\"4\" y=\"%d\" font-size=\"10\">0</text>"
                    + "<text x=\"%d\" y=\"%d\" font-size=\"10\">%.0f s</text></svg>",
                pad,
                maxFvu,
                height - pad,
                width - pad,
                height - 4,
                maxT));
    return svg.toString();
  }

  private static String escape(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
