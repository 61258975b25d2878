package io.saestream.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Typed access by dotted key ({@code streams.commit-interval}) to a configuration read by {@link
 * ConfigLayout}, or to one entry of a list in it, with messages that name the full key ({@code
 * trainers[0].d-in must be an integer, was 'x'}). A value that is absent or YAML null takes the
 * fallback; relative paths resolve against the file's directory. Integers may group digits with '_'
 * ({@code 10_000_000}). Wraps a tree that nobody else changes: thread-safe for reading.
 */
public final class ConfigTree {

  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)");

  private final ObjectNode node;
  private final Path baseDir;
  private final String prefix;

  ConfigTree(ObjectNode node, Path baseDir, String prefix) {
    this.node = node;
    this.baseDir = baseDir;
    this.prefix = prefix;
  }

  /** The full name of {@code key} in messages, e.g. {@code deployments[1].path}. */
  public String keyOf(String key) {
    return prefix + key;
  }

  /** The keys written at this level, in file order. */
  public List<String> keys() {
    List<String> keys = new ArrayList<>();
    node.fieldNames().forEachRemaining(keys::add);
    return keys;
  }

  /** Whether {@code key} has a value (not absent, not YAML null). */
  public boolean has(String key) {
    return node(key) != null;
  }

  /** The text of scalar {@code key}, or null when it has none. */
  public @Nullable String optionalString(String key) {
    return scalarText(keyOf(key), node(key));
  }

  /** The text of scalar {@code key}, or {@code fallback}. */
  public String string(String key, String fallback) {
    String value = optionalString(key);
    return value == null ? fallback : value;
  }

  /** The text of scalar {@code key}, which must be given. */
  public String requiredString(String key) {
    String value = optionalString(key);
    if (value == null) {
      throw new IllegalArgumentException(keyOf(key) + " is required");
    }
    return value;
  }

  /** {@code key} as a 32-bit integer, or {@code fallback}. */
  public int integer(String key, int fallback) {
    String text = optionalString(key);
    return text == null ? fallback : toInt(key, parseLong(keyOf(key), text));
  }

  /** {@code key} as a 32-bit integer, which must be given. */
  public int requiredInteger(String key) {
    return toInt(key, parseLong(keyOf(key), requiredString(key)));
  }

  /** {@code key} as a 64-bit integer, or {@code fallback}. */
  public long longInteger(String key, long fallback) {
    String text = optionalString(key);
    return text == null ? fallback : parseLong(keyOf(key), text);
  }

  /** {@code key} as a finite number, or {@code fallback}. */
  public double number(String key, double fallback) {
    String text = optionalString(key);
    return text == null ? fallback : parseNumber(keyOf(key), text);
  }

  /** {@code key} as a finite number, which must be given. */
  public double requiredNumber(String key) {
    return parseNumber(keyOf(key), requiredString(key));
  }

  /** {@code key} as {@code true} or {@code false} (any case), or {@code fallback}. */
  public boolean bool(String key, boolean fallback) {
    String text = optionalString(key);
    if (text == null) {
      return fallback;
    }
    return switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default ->
          throw new IllegalArgumentException(
              keyOf(key) + " must be true or false, was '" + text + "'");
    };
  }

  /** {@code key} as a duration (see {@link #parseDuration}), or {@code fallback}. */
  public Duration duration(String key, Duration fallback) {
    String text = optionalString(key);
    return text == null ? fallback : parseDuration(keyOf(key), text);
  }

  /** {@code key} as a path resolved against the file's directory, or {@code fallback}. */
  public Path path(String key, Path fallback) {
    Path path = optionalPath(key);
    return path == null ? fallback : path;
  }

  /** {@code key} as a path resolved against the file's directory, or null. */
  public @Nullable Path optionalPath(String key) {
    String text = optionalString(key);
    return text == null ? null : resolve(text);
  }

  /** {@code path} resolved against the file's directory. */
  public Path resolve(String path) {
    return baseDir.resolve(path).normalize();
  }

  /** The elements of list {@code key}, or of its comma-separated text, or of {@code fallback}'s. */
  public List<String> strings(String key, String fallback) {
    JsonNode value = node(key);
    if (value == null) {
      return List.of(fallback.split(",", -1));
    }
    if (!value.isArray()) {
      return List.of(requiredString(key).split(",", -1));
    }
    List<String> texts = new ArrayList<>();
    for (JsonNode element : value) {
      String text = scalarText(keyOf(key) + "[]", element);
      if (text == null) {
        throw new IllegalArgumentException(keyOf(key) + "[] must have a value");
      }
      texts.add(text);
    }
    return texts;
  }

  /** The string-to-string mapping at {@code key}, sorted by name; empty when absent. */
  public Map<String, String> properties(String key) {
    JsonNode value = node(key);
    Map<String, String> properties = new TreeMap<>();
    if (value == null) {
      return properties;
    }
    if (!value.isObject()) {
      throw new IllegalArgumentException(
          keyOf(key) + " must be a mapping, was " + value.getNodeType());
    }
    for (Map.Entry<String, JsonNode> e : value.properties()) {
      String name = keyOf(key) + "." + e.getKey();
      String text = scalarText(name, e.getValue());
      if (text == null) {
        throw new IllegalArgumentException(name + " must have a value");
      }
      properties.put(e.getKey(), text);
    }
    return properties;
  }

  /** The mappings listed at {@code key}, each a tree named {@code key[i]}; empty when absent. */
  public List<ConfigTree> entries(String key) {
    JsonNode value = node(key);
    if (value == null) {
      return List.of();
    }
    if (!value.isArray()) {
      throw new IllegalArgumentException(
          keyOf(key) + " must be a list, was " + value.getNodeType());
    }
    List<ConfigTree> entries = new ArrayList<>();
    for (int i = 0; i < value.size(); i++) {
      String name = keyOf(key) + "[" + i + "]";
      if (!(value.get(i) instanceof ObjectNode entry)) {
        throw new IllegalArgumentException(
            name + " must be a mapping, was " + value.get(i).getNodeType());
      }
      entries.add(new ConfigTree(entry, baseDir, name + "."));
    }
    return entries;
  }

  /**
   * {@code e} with this entry's name in front of its message, unless the message already names a
   * key of the entry: for errors of the values built from it ({@code max-active must be > 0}).
   */
  public IllegalArgumentException named(IllegalArgumentException e) {
    String message = String.valueOf(e.getMessage());
    return message.startsWith(prefix) ? e : new IllegalArgumentException(prefix + message, e);
  }

  /** Parses {@code 100ms}, {@code 30s}, {@code 5m}, {@code 1h} or ISO-8601 ({@code PT30S}). */
  public static Duration parseDuration(String key, String text) {
    String trimmed = text.trim();
    Matcher m = DURATION.matcher(trimmed);
    if (m.matches()) {
      long amount = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(amount);
        case "s" -> Duration.ofSeconds(amount);
        case "m" -> Duration.ofMinutes(amount);
        default -> Duration.ofHours(amount);
      };
    }
    try {
      return Duration.parse(trimmed);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          key + " must be a duration like 100ms, 30s, 5m, 1h or PT30S, was '" + text + "'", e);
    }
  }

  /** Whether the mapping at dotted {@code key} of {@code root} holds the key, even as null. */
  static boolean contains(ObjectNode root, String key) {
    int dot = key.lastIndexOf('.');
    JsonNode parent = dot < 0 ? root : at(root, key.substring(0, dot));
    return parent != null && parent.isObject() && parent.has(key.substring(dot + 1));
  }

  private @Nullable JsonNode node(String key) {
    return at(node, key);
  }

  private static @Nullable JsonNode at(JsonNode root, String key) {
    JsonNode value = root;
    for (String name : key.split("\\.", -1)) {
      value = value.get(name);
      if (value == null || value.isNull()) {
        return null;
      }
    }
    return value;
  }

  private static @Nullable String scalarText(String key, @Nullable JsonNode value) {
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isValueNode()) {
      throw new IllegalArgumentException(
          key + " must be a single value, was a " + value.getNodeType());
    }
    return value.asText();
  }

  private int toInt(String key, long value) {
    if (value != (int) value) {
      throw new IllegalArgumentException(keyOf(key) + " must fit in 32 bits, was " + value);
    }
    return (int) value;
  }

  private static long parseLong(String key, String text) {
    try {
      return Long.parseLong(text.trim().replace("_", ""));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be an integer, was '" + text + "'", e);
    }
  }

  private static double parseNumber(String key, String text) {
    double value;
    try {
      value = Double.parseDouble(text.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be a number, was '" + text + "'", e);
    }
    if (!Double.isFinite(value)) {
      throw new IllegalArgumentException(key + " must be finite, was " + text);
    }
    return value;
  }
}
