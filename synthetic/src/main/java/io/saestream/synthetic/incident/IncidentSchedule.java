package io.saestream.synthetic.incident;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The incidents a synthetic producer stages, ordered by start time. Built from a list or parsed
 * from a compact spec:
 *
 * <pre>
 * schedule := incident (';' incident)*
 * incident := 'burst@' TIME ':' params          params: feature=N (required), tokens=N, magnitude=X
 *           | 'drift@' TIME '+' DURATION [':' params]        params: scale=X
 * </pre>
 *
 * e.g. {@code burst@30s:feature=17,tokens=20; drift@60s+20s:scale=3}. Times and durations use
 * {@link CompactDuration}; see {@link LatentBurst} and {@link DriftEpisode} for the meaning and
 * defaults of the parameters. Immutable and thread-safe.
 */
public final class IncidentSchedule {

  private static final IncidentSchedule NONE = new IncidentSchedule(List.of());
  private static final String SYNTAX =
      "KIND@TIME[+DURATION][:NAME=VALUE,...], e.g. burst@30s:feature=17,tokens=20 or"
          + " drift@60s+20s:scale=3";

  private final List<Incident> incidents;

  private IncidentSchedule(List<Incident> incidents) {
    List<Incident> sorted = new ArrayList<>(incidents);
    sorted.sort(Comparator.comparing(Incident::at));
    this.incidents = List.copyOf(sorted);
  }

  /** A schedule without incidents. */
  public static IncidentSchedule none() {
    return NONE;
  }

  /** A schedule of {@code incidents}, in order of start time (ties keep their order). */
  public static IncidentSchedule of(List<? extends Incident> incidents) {
    Objects.requireNonNull(incidents, "incidents");
    for (Incident incident : incidents) {
      Objects.requireNonNull(incident, "incidents element");
    }
    return incidents.isEmpty() ? NONE : new IncidentSchedule(List.copyOf(incidents));
  }

  /**
   * Parses the compact spec (see the class documentation); a blank spec is the empty schedule.
   *
   * @throws IllegalArgumentException naming the incident (by number and text) and what is wrong
   */
  public static IncidentSchedule parse(String spec) {
    Objects.requireNonNull(spec, "spec");
    if (spec.isBlank()) {
      return NONE;
    }
    String[] entries = spec.split(";", -1);
    List<Incident> parsed = new ArrayList<>(entries.length);
    for (int n = 0; n < entries.length; n++) {
      String entry = entries[n].strip();
      if (entry.isEmpty()) {
        throw new IllegalArgumentException(
            "incident " + (n + 1) + " of '" + spec + "' is empty (a stray ';'?)");
      }
      try {
        parsed.add(parseOne(entry));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "incident " + (n + 1) + " '" + entry + "': " + e.getMessage(), e);
      }
    }
    return new IncidentSchedule(parsed);
  }

  /** Every incident, ordered by start time. */
  public List<Incident> incidents() {
    return incidents;
  }

  /** The latent bursts, ordered by start time. */
  public List<LatentBurst> bursts() {
    return incidents.stream()
        .filter(LatentBurst.class::isInstance)
        .map(LatentBurst.class::cast)
        .collect(Collectors.toUnmodifiableList());
  }

  /** The drift episodes, ordered by start time. */
  public List<DriftEpisode> drifts() {
    return incidents.stream()
        .filter(DriftEpisode.class::isInstance)
        .map(DriftEpisode.class::cast)
        .collect(Collectors.toUnmodifiableList());
  }

  /** Whether there are no incidents. */
  public boolean isEmpty() {
    return incidents.isEmpty();
  }

  /**
   * Checks that every burst targets a feature of a model with {@code features} features.
   *
   * @throws IllegalArgumentException naming the first burst that does not
   */
  public void requireFeaturesBelow(int features) {
    for (LatentBurst burst : bursts()) {
      if (burst.feature() >= features) {
        throw new IllegalArgumentException(
            "incident '"
                + burst.spec()
                + "' targets feature "
                + burst.feature()
                + ", but the model has "
                + features
                + " features (0.."
                + (features - 1)
                + ")");
      }
    }
  }

  /** The schedule in the compact syntax; {@link #parse} reads it back to an equal schedule. */
  public String spec() {
    return incidents.stream().map(Incident::spec).collect(Collectors.joining(";"));
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof IncidentSchedule other && incidents.equals(other.incidents);
  }

  @Override
  public int hashCode() {
    return incidents.hashCode();
  }

  @Override
  public String toString() {
    return incidents.isEmpty() ? "IncidentSchedule[none]" : "IncidentSchedule[" + spec() + "]";
  }

  private static Incident parseOne(String entry) {
    int colon = entry.indexOf(':');
    String head = (colon < 0 ? entry : entry.substring(0, colon)).strip();
    int atSign = head.indexOf('@');
    if (atSign < 0) {
      throw new IllegalArgumentException("expected " + SYNTAX);
    }
    String kind = head.substring(0, atSign).strip().toLowerCase(Locale.ROOT);
    String when = head.substring(atSign + 1).strip();
    Map<String, String> params = colon < 0 ? Map.of() : parseParams(entry.substring(colon + 1));
    return switch (kind) {
      case "burst" -> parseBurst(when, params);
      case "drift" -> parseDrift(when, params);
      default ->
          throw new IllegalArgumentException(
              "unknown incident kind '" + kind + "', expected burst or drift (" + SYNTAX + ")");
    };
  }

  private static LatentBurst parseBurst(String when, Map<String, String> params) {
    if (when.contains("+")) {
      throw new IllegalArgumentException(
          "a burst has no duration, write burst@TIME:feature=N[,tokens=N][,magnitude=X]");
    }
    requireKnown("burst", params, Set.of("feature", "tokens", "magnitude"));
    if (!params.containsKey("feature")) {
      throw new IllegalArgumentException(
          "a burst needs feature=N, e.g. burst@30s:feature=17,tokens=20");
    }
    return new LatentBurst(
        time("time", when),
        intParam(params, "feature", 0),
        intParam(params, "tokens", LatentBurst.DEFAULT_TOKENS),
        doubleParam(params, "magnitude", LatentBurst.DEFAULT_MAGNITUDE));
  }

  private static DriftEpisode parseDrift(String when, Map<String, String> params) {
    int plus = when.indexOf('+');
    if (plus < 0) {
      throw new IllegalArgumentException(
          "a drift needs a duration, write drift@TIME+DURATION[:scale=X], e.g."
              + " drift@60s+20s:scale=3");
    }
    requireKnown("drift", params, Set.of("scale"));
    return new DriftEpisode(
        time("time", when.substring(0, plus)),
        time("duration", when.substring(plus + 1)),
        doubleParam(params, "scale", DriftEpisode.DEFAULT_SCALE));
  }

  private static Map<String, String> parseParams(String text) {
    if (text.isBlank()) {
      throw new IllegalArgumentException("no parameters after ':', expected NAME=VALUE,...");
    }
    Map<String, String> params = new LinkedHashMap<>();
    for (String part : text.split(",", -1)) {
      int eq = part.indexOf('=');
      String name = (eq < 0 ? part : part.substring(0, eq)).strip().toLowerCase(Locale.ROOT);
      String value = eq < 0 ? "" : part.substring(eq + 1).strip();
      if (eq < 0 || name.isEmpty() || value.isEmpty()) {
        throw new IllegalArgumentException(
            "parameter '" + part.strip() + "' must be NAME=VALUE, e.g. feature=17");
      }
      if (params.put(name, value) != null) {
        throw new IllegalArgumentException("parameter '" + name + "' is given twice");
      }
    }
    return params;
  }

  private static void requireKnown(String kind, Map<String, String> params, Set<String> known) {
    for (String name : params.keySet()) {
      if (!known.contains(name)) {
        throw new IllegalArgumentException(
            "unknown parameter '"
                + name
                + "' for a "
                + kind
                + ", expected "
                + String.join(", ", new TreeSet<>(known)));
      }
    }
  }

  private static Duration time(String what, String text) {
    try {
      return CompactDuration.parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(what + " " + e.getMessage(), e);
    }
  }

  private static int intParam(Map<String, String> params, String name, int fallback) {
    String value = params.get(name);
    if (value == null) {
      return fallback;
    }
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be an integer, was '" + value + "'", e);
    }
  }

  private static double doubleParam(Map<String, String> params, String name, double fallback) {
    String value = params.get(name);
    if (value == null) {
      return fallback;
    }
    try {
      return Double.parseDouble(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a number, was '" + value + "'", e);
    }
  }
}
