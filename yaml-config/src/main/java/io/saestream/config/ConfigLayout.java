package io.saestream.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The layout of one YAML configuration file format: sections of scalar keys, free-form property
 * maps, lists of entries, and the secrets only the environment may set. Reads a file into a {@link
 * ConfigTree} in three layers: the YAML, then the {@code SAE_STREAM_*} environment variables over
 * it, then the check that every key is known (unknown keys are usually typos).
 *
 * <p>Every scalar key {@code section.key} has a variable {@code SAE_STREAM_SECTION_KEY} (see {@link
 * #environmentVariable(String)}); for a property map such as {@code kafka.properties}, {@code
 * SAE_STREAM_KAFKA_PROPERTIES_<NAME>} sets property {@code <name>} lower-cased with '_' turned into
 * '.'. Lists of entries come from the file only. Any other {@code SAE_STREAM_*} variable is ignored
 * with a warning, except the {@link #PROCESS_VARIABLES} the project reads elsewhere and the
 * variables a loader {@linkplain Builder#readsElsewhere reads itself}.
 *
 * <p>Built once per format with {@link #builder(String, Class)}; immutable and thread-safe.
 */
public final class ConfigLayout {

  /** Prefix of the environment variables read. */
  public static final String ENV_PREFIX = "SAE_STREAM_";

  /**
   * {@code SAE_STREAM_*} variables of the whole process, read outside the configuration files, so
   * never warned about: {@code SAE_STREAM_JAVA_OPTS} (the {@code sae-stream} script), {@code
   * SAE_STREAM_LOG_LEVEL} and {@code SAE_STREAM_KAFKA_LOG_LEVEL} (the launcher's logback.xml), and
   * {@code SAE_STREAM_DEBUG} (the CLIs' error handlers).
   */
  public static final Set<String> PROCESS_VARIABLES =
      Set.of(
          "SAE_STREAM_JAVA_OPTS",
          "SAE_STREAM_LOG_LEVEL",
          "SAE_STREAM_KAFKA_LOG_LEVEL",
          "SAE_STREAM_DEBUG");

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private final String application;
  private final Logger log;
  private final Map<String, List<String>> sections;
  private final List<String> propertyMaps;
  private final List<String> entryLists;
  private final Map<String, String> secrets;
  private final Set<String> readElsewhere;
  private final UnknownKeyMessage unknownKeyMessage;

  private ConfigLayout(Builder b) {
    this.application = b.application;
    this.log = LoggerFactory.getLogger(b.owner);
    this.sections = copy(b.sections);
    this.propertyMaps = List.copyOf(b.propertyMaps);
    this.entryLists = List.copyOf(b.entryLists);
    this.secrets = Collections.unmodifiableMap(new LinkedHashMap<>(b.secrets));
    this.readElsewhere = Set.copyOf(b.readElsewhere);
    this.unknownKeyMessage = b.unknownKeyMessage;
  }

  private static Map<String, List<String>> copy(Map<String, List<String>> sections) {
    Map<String, List<String>> copy = new LinkedHashMap<>();
    sections.forEach((name, keys) -> copy.put(name, List.copyOf(keys)));
    return Collections.unmodifiableMap(copy);
  }

  /**
   * Starts a layout; {@code application} names it in warnings ({@code streams}, {@code trainer}),
   * and the warnings are logged under {@code owner}'s logger.
   */
  public static Builder builder(String application, Class<?> owner) {
    return new Builder(application, owner);
  }

  /** The environment variable that overrides {@code dottedKey}. */
  public static String environmentVariable(String dottedKey) {
    return ENV_PREFIX + dottedKey.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  /** Every scalar key that an environment variable can override, in declaration order. */
  public List<String> scalarKeys() {
    List<String> keys = new ArrayList<>();
    sections.forEach((section, names) -> names.forEach(n -> keys.add(section + "." + n)));
    return keys;
  }

  /**
   * Reads {@code file} (UTF-8), resolving relative paths against its directory, applies {@code
   * environment} and hands the result to {@code build}.
   *
   * @throws IllegalArgumentException prefixed with the file when a key or value is bad
   * @throws UncheckedIOException when the file cannot be read
   */
  public <T> T load(Path file, Map<String, String> environment, Function<ConfigTree, T> build) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read configuration file " + file, e);
    }
    Path base = file.toAbsolutePath().getParent();
    try {
      return build.apply(read(text, base == null ? Path.of("") : base, environment));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Parses YAML {@code text}, refuses secrets written in it, applies {@code environment} and checks
   * that every key is known; relative paths of the result resolve against {@code baseDir}.
   *
   * @throws IllegalArgumentException naming the key when a key or value is bad
   */
  public ConfigTree read(String text, Path baseDir, Map<String, String> environment) {
    ObjectNode root = readTree(text);
    for (Map.Entry<String, String> secret : secrets.entrySet()) {
      if (ConfigTree.contains(root, secret.getKey())) {
        throw new IllegalArgumentException(
            secret.getKey()
                + " must not be written in the configuration file; "
                + secret.getValue());
      }
    }
    applyEnvironment(root, environment);
    checkKnownKeys(root);
    return new ConfigTree(root, baseDir, "");
  }

  /**
   * The {@code SAE_STREAM_*} variables of {@code environment} that name nothing this layout reads,
   * sorted: those {@link #read} ignores with a warning.
   */
  public List<String> ignoredVariables(Map<String, String> environment) {
    Set<String> scalarVariables = new LinkedHashSet<>();
    scalarKeys().forEach(k -> scalarVariables.add(environmentVariable(k)));
    List<String> ignored = new ArrayList<>();
    for (String variable : new TreeMap<>(environment).keySet()) {
      if (variable.startsWith(ENV_PREFIX)
          && !scalarVariables.contains(variable)
          && propertyMap(variable) == null
          && !readElsewhere.contains(variable)
          && !PROCESS_VARIABLES.contains(variable)) {
        ignored.add(variable);
      }
    }
    return ignored;
  }

  /** The error for {@code key}, which is not among {@code known}, worded for this format. */
  public IllegalArgumentException unknownKey(String key, Collection<String> known) {
    return new IllegalArgumentException(unknownKeyMessage.describe(key, List.copyOf(known)));
  }

  private static ObjectNode readTree(String text) {
    JsonNode node;
    try {
      node = YAML.readTree(text);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not valid YAML: " + e.getOriginalMessage(), e);
    }
    if (node == null || node.isMissingNode() || node.isNull()) {
      return JsonNodeFactory.instance.objectNode();
    }
    if (!(node instanceof ObjectNode o)) {
      throw new IllegalArgumentException(
          "the configuration must be a YAML mapping, was a " + node.getNodeType());
    }
    return o;
  }

  private void applyEnvironment(ObjectNode root, Map<String, String> environment) {
    for (String variable : ignoredVariables(environment)) {
      log.warn(
          "Ignoring environment variable {}: it names no {} configuration key",
          variable,
          application);
    }
    Map<String, String> keyByVariable = new LinkedHashMap<>();
    scalarKeys().forEach(k -> keyByVariable.put(environmentVariable(k), k));
    for (Map.Entry<String, String> e : new TreeMap<>(environment).entrySet()) {
      String variable = e.getKey();
      String key = keyByVariable.get(variable);
      String map = key == null ? propertyMap(variable) : null;
      if (key != null) {
        int dot = key.lastIndexOf('.');
        mapping(root, key.substring(0, dot)).put(key.substring(dot + 1), e.getValue());
      } else if (map != null) {
        String property =
            variable
                .substring(environmentVariable(map).length() + 1)
                .toLowerCase(Locale.ROOT)
                .replace('_', '.');
        mapping(root, map).put(property, e.getValue());
      }
    }
  }

  /** The property map that {@code variable} sets a property of, or null. */
  private @Nullable String propertyMap(String variable) {
    for (String map : propertyMaps) {
      String prefix = environmentVariable(map) + "_";
      if (variable.startsWith(prefix) && variable.length() > prefix.length()) {
        return map;
      }
    }
    return null;
  }

  /** The mapping at dotted {@code key}, created when absent. */
  private static ObjectNode mapping(ObjectNode root, String key) {
    ObjectNode node = root;
    String path = "";
    for (String name : key.split("\\.", -1)) {
      path = path.isEmpty() ? name : path + "." + name;
      JsonNode child = node.get(name);
      if (child instanceof ObjectNode o) {
        node = o;
      } else if (child == null || child.isNull()) {
        node = node.putObject(name);
      } else {
        throw new IllegalArgumentException(path + " must be a mapping, was " + child.getNodeType());
      }
    }
    return node;
  }

  private void checkKnownKeys(ObjectNode root) {
    List<String> topLevel = new ArrayList<>(sections.keySet());
    topLevel.addAll(entryLists);
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String section = it.next();
      if (entryLists.contains(section)) {
        continue;
      }
      List<String> known = sections.get(section);
      if (known == null) {
        throw unknownKey(section, topLevel);
      }
      JsonNode node = root.get(section);
      if (node == null || node.isNull()) {
        continue;
      }
      if (!node.isObject()) {
        throw new IllegalArgumentException(
            section + " must be a mapping, was " + node.getNodeType());
      }
      List<String> allowed = new ArrayList<>(known);
      for (String map : propertyMaps) {
        if (map.startsWith(section + ".")) {
          allowed.add(map.substring(section.length() + 1));
        }
      }
      for (Iterator<String> keys = node.fieldNames(); keys.hasNext(); ) {
        String key = keys.next();
        if (!allowed.contains(key)) {
          throw unknownKey(section + "." + key, allowed);
        }
      }
    }
  }

  /** Words the error about an unknown key, given the keys known at its place. */
  @FunctionalInterface
  public interface UnknownKeyMessage {

    /** The message for {@code key}, a dotted key of the file, with {@code known} its siblings. */
    String describe(String key, List<String> known);
  }

  /** Collects a layout; not thread-safe, used once. */
  public static final class Builder {

    private final String application;
    private final Class<?> owner;
    private final Map<String, List<String>> sections = new LinkedHashMap<>();
    private final List<String> propertyMaps = new ArrayList<>();
    private final List<String> entryLists = new ArrayList<>();
    private final Map<String, String> secrets = new LinkedHashMap<>();
    private final Set<String> readElsewhere = new LinkedHashSet<>();
    private UnknownKeyMessage unknownKeyMessage =
        (key, known) ->
            "unknown configuration key '" + key + "'; known: " + String.join(", ", known);

    private Builder(String application, Class<?> owner) {
      this.application = application;
      this.owner = owner;
    }

    /** A top-level mapping of scalar keys, each overridable by its variable. */
    public Builder section(String name, String... keys) {
      sections.put(name, List.of(keys));
      return this;
    }

    /** A free-form string map at dotted {@code key}, e.g. {@code kafka.properties}. */
    public Builder propertyMap(String key) {
      propertyMaps.add(key);
      return this;
    }

    /** A top-level list of mappings, from the file only, checked by the loader. */
    public Builder entries(String name) {
      entryLists.add(name);
      return this;
    }

    /** A key the file must not hold because it is a secret; {@code instead} says where it goes. */
    public Builder secret(String key, String instead) {
      secrets.put(key, instead);
      return this;
    }

    /** A {@code SAE_STREAM_*} variable the loader reads itself, so never warned about. */
    public Builder readsElsewhere(String variable) {
      readElsewhere.add(variable);
      return this;
    }

    /** How unknown keys are reported (default: {@code unknown configuration key 'k'; known: …}). */
    public Builder unknownKeyMessage(UnknownKeyMessage message) {
      unknownKeyMessage = message;
      return this;
    }

    /** The layout. */
    public ConfigLayout build() {
      return new ConfigLayout(this);
    }
  }
}
