package io.saestream.streams.monitoring.rules;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.saestream.schema.v1.AlertSeverity;
import io.saestream.streams.config.ConfigLoader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Parses alert rules from YAML or JSON (YAML is a superset, so one parser reads both). A rules file
 * holds {@code rules: [ {...}, ... ]}; a rules-topic value is one rule object whose id is the
 * record key. Keys per type:
 *
 * <pre>
 * common:            id, type, sae-id, severity [WARNING], window [1m]
 * latent-threshold:  latent, min-activation, min-tokens [1]
 * latent-rate:       latent, factor, min-rate [0], warmup-windows [3], ewma-alpha [0.3]
 * probe:             weights {latent: weight}, bias [0], threshold, mode [token|sequence-mean], min-tokens [1]
 * drift:             metric [fvu|mean-relative-error], threshold, min-tokens [1]
 * </pre>
 *
 * Unknown keys are errors. Stateless and thread-safe.
 */
public final class RuleParser {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private static final Set<String> COMMON = Set.of("id", "type", "sae-id", "severity", "window");

  private static final Map<String, Set<String>> KEYS =
      Map.of(
          "latent-threshold", Set.of("latent", "min-activation", "min-tokens"),
          "latent-rate", Set.of("latent", "factor", "min-rate", "warmup-windows", "ewma-alpha"),
          "probe", Set.of("weights", "bias", "threshold", "mode", "min-tokens"),
          "drift", Set.of("metric", "threshold", "min-tokens"));

  /** Default window of a rule. */
  public static final Duration DEFAULT_WINDOW = Duration.ofMinutes(1);

  private RuleParser() {}

  /**
   * Parses a rules file: {@code rules:} followed by a list of rules with unique ids.
   *
   * @throws IllegalArgumentException naming the rule and key at fault
   */
  public static List<AlertRule> parseFile(String text) {
    JsonNode root = read(text);
    if (root == null || root.isNull() || root.isMissingNode()) {
      return List.of();
    }
    if (!root.isObject()) {
      throw new IllegalArgumentException("a rules file must be a mapping with 'rules'");
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!key.equals("rules")) {
        throw new IllegalArgumentException("unknown key '" + key + "' in rules file; known: rules");
      }
    }
    JsonNode rules = root.get("rules");
    if (rules == null || rules.isNull()) {
      return List.of();
    }
    if (!rules.isArray()) {
      throw new IllegalArgumentException("rules must be a list, was " + rules.getNodeType());
    }
    List<AlertRule> parsed = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < rules.size(); i++) {
      AlertRule rule = parse(rules.get(i), null, "rules[" + i + "]");
      if (!ids.add(rule.ruleId())) {
        throw new IllegalArgumentException(
            "rules[" + i + "]: duplicate id '" + rule.ruleId() + "'");
      }
      parsed.add(rule);
    }
    return List.copyOf(parsed);
  }

  /**
   * Parses one rule from a rules-topic value; {@code id}, when present, must equal the key.
   *
   * @throws IllegalArgumentException naming the key at fault
   */
  public static AlertRule parseRecord(String ruleId, String json) {
    return parse(read(json), ruleId, "rule " + ruleId);
  }

  private static JsonNode read(String text) {
    try {
      JsonNode node = YAML.readTree(text);
      return node == null ? YAML.nullNode() : node;
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("malformed rules: " + e.getOriginalMessage(), e);
    }
  }

  private static AlertRule parse(@Nullable JsonNode node, @Nullable String key, String where) {
    if (node == null || !node.isObject()) {
      throw new IllegalArgumentException(where + " must be a mapping");
    }
    Fields f = new Fields(node, where);
    String id = f.optionalText("id");
    if (key != null) {
      if (id != null && !id.equals(key)) {
        throw new IllegalArgumentException(
            where + ": id '" + id + "' differs from the record key '" + key + "'");
      }
      id = key;
    }
    if (id == null) {
      throw new IllegalArgumentException(where + ": id is required");
    }
    String type = f.requiredText("type");
    Set<String> specific = KEYS.get(type);
    if (specific == null) {
      throw new IllegalArgumentException(
          where
              + ": type must be one of "
              + new java.util.TreeSet<>(KEYS.keySet())
              + ", was '"
              + type
              + "'");
    }
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String field = it.next();
      if (!COMMON.contains(field) && !specific.contains(field)) {
        throw new IllegalArgumentException(
            where + ": unknown key '" + field + "' for type " + type);
      }
    }
    String sae = f.requiredText("sae-id");
    AlertSeverity severity = severity(where, f.optionalText("severity"));
    String windowText = f.optionalText("window");
    Duration window =
        windowText == null
            ? DEFAULT_WINDOW
            : ConfigLoader.parseDuration(where + ".window", windowText);
    try {
      return switch (type) {
        case "latent-threshold" ->
            new LatentThresholdRule(
                id,
                severity,
                sae,
                f.integer("latent", null),
                f.number("min-activation", null),
                f.integer("min-tokens", 1),
                window);
        case "latent-rate" ->
            new LatentRateRule(
                id,
                severity,
                sae,
                f.integer("latent", null),
                f.number("factor", null),
                f.number("min-rate", 0.0),
                f.integer("warmup-windows", 3),
                f.number("ewma-alpha", 0.3),
                window);
        case "probe" ->
            new ProbeRule(
                id,
                severity,
                sae,
                f.weights("weights"),
                f.number("bias", 0.0),
                f.number("threshold", null),
                probeMode(where, f.optionalText("mode")),
                f.integer("min-tokens", 1),
                window);
        default ->
            new DriftRule(
                id,
                severity,
                sae,
                metric(where, f.optionalText("metric")),
                f.number("threshold", null),
                f.integer("min-tokens", 1),
                window);
      };
    } catch (IllegalArgumentException e) {
      if (e.getMessage() != null && e.getMessage().startsWith("rule ")) {
        throw e;
      }
      throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
    }
  }

  private static AlertSeverity severity(String where, @Nullable String text) {
    if (text == null) {
      return AlertSeverity.WARNING;
    }
    try {
      return AlertSeverity.valueOf(text.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          where + ": severity must be INFO, WARNING or CRITICAL, was '" + text + "'", e);
    }
  }

  private static ProbeRule.Mode probeMode(String where, @Nullable String text) {
    if (text == null) {
      return ProbeRule.Mode.TOKEN;
    }
    return switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "token" -> ProbeRule.Mode.TOKEN;
      case "sequence-mean" -> ProbeRule.Mode.SEQUENCE_MEAN;
      default ->
          throw new IllegalArgumentException(
              where + ": mode must be token or sequence-mean, was '" + text + "'");
    };
  }

  private static DriftRule.Metric metric(String where, @Nullable String text) {
    if (text == null) {
      return DriftRule.Metric.FVU;
    }
    return switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "fvu" -> DriftRule.Metric.FVU;
      case "mean-relative-error" -> DriftRule.Metric.MEAN_RELATIVE_ERROR;
      default ->
          throw new IllegalArgumentException(
              where + ": metric must be fvu or mean-relative-error, was '" + text + "'");
    };
  }

  /** Typed field access with messages naming the rule and key. */
  private static final class Fields {
    private final JsonNode node;
    private final String where;

    Fields(JsonNode node, String where) {
      this.node = node;
      this.where = where;
    }

    @Nullable String optionalText(String key) {
      JsonNode v = node.get(key);
      if (v == null || v.isNull()) {
        return null;
      }
      if (!v.isValueNode()) {
        throw new IllegalArgumentException(where + ": " + key + " must be a single value");
      }
      return v.asText();
    }

    String requiredText(String key) {
      String v = optionalText(key);
      if (v == null || v.isBlank()) {
        throw new IllegalArgumentException(where + ": " + key + " is required");
      }
      return v;
    }

    int integer(String key, @Nullable Integer fallback) {
      String v = optionalText(key);
      if (v == null) {
        if (fallback == null) {
          throw new IllegalArgumentException(where + ": " + key + " is required");
        }
        return fallback;
      }
      try {
        return Integer.parseInt(v.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            where + ": " + key + " must be an integer, was '" + v + "'", e);
      }
    }

    double number(String key, @Nullable Double fallback) {
      String v = optionalText(key);
      if (v == null) {
        if (fallback == null) {
          throw new IllegalArgumentException(where + ": " + key + " is required");
        }
        return fallback;
      }
      try {
        return Double.parseDouble(v.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            where + ": " + key + " must be a number, was '" + v + "'", e);
      }
    }

    Map<Integer, Double> weights(String key) {
      JsonNode v = node.get(key);
      if (v == null || !v.isObject()) {
        throw new IllegalArgumentException(
            where + ": " + key + " must be a mapping of latent index to weight");
      }
      Map<Integer, Double> weights = new HashMap<>();
      for (Map.Entry<String, JsonNode> e : v.properties()) {
        int latent;
        try {
          latent = Integer.parseInt(e.getKey().trim());
        } catch (NumberFormatException ex) {
          throw new IllegalArgumentException(
              where + ": " + key + " keys must be latent indices, was '" + e.getKey() + "'", ex);
        }
        if (!e.getValue().isNumber()) {
          throw new IllegalArgumentException(
              where + ": " + key + "[" + latent + "] must be a number");
        }
        weights.put(latent, e.getValue().asDouble());
      }
      return weights;
    }
  }
}
