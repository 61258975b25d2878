package io.saestream.launcher;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A docker-compose file read for checking: its services with their image, build, command,
 * environment, mounts, ports and dependencies, in the short and long syntaxes Compose accepts.
 * Variable interpolation ({@code ${X}}) is not modelled and is refused, so that no check passes on
 * a value Compose would have replaced. Immutable.
 */
final class ComposeStack {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /** A volume or bind mount: {@code source:target[:ro]}. */
  record Mount(String source, String target, boolean readOnly, boolean bind) {

    /** Whether {@code containerPath} is this mount's target or lies below it. */
    boolean covers(Path containerPath) {
      return containerPath.normalize().startsWith(Path.of(target).normalize());
    }
  }

  /** A published port; {@code host} is null when Compose picks one. */
  record PortMapping(@Nullable Integer host, int container) {}

  private final JsonNode root;
  private final Path projectDir;
  private final Map<String, Service> services;

  private ComposeStack(JsonNode root, Path projectDir) {
    this.root = root;
    this.projectDir = projectDir;
    Map<String, Service> byName = new LinkedHashMap<>();
    JsonNode node = root.path("services");
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      byName.put(e.getKey(), new Service(e.getKey(), e.getValue()));
    }
    this.services = byName;
  }

  /**
   * Parses compose {@code yaml}; relative paths in it are resolved against {@code projectDir}.
   *
   * @throws IllegalArgumentException when it is not YAML, has no services or interpolates
   */
  static ComposeStack parse(String yaml, Path projectDir) {
    JsonNode root;
    try {
      root = YAML.readTree(yaml);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not valid YAML: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.path("services").isObject()) {
      throw new IllegalArgumentException("no services");
    }
    refuseInterpolation(root, "");
    return new ComposeStack(root, projectDir);
  }

  private static void refuseInterpolation(JsonNode node, String where) {
    if (node.isTextual() && node.asText().contains("${")) {
      throw new IllegalArgumentException(
          where + " interpolates a variable, which these checks do not model: " + node.asText());
    }
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      refuseInterpolation(e.getValue(), where + "/" + e.getKey());
    }
    for (int i = 0; i < node.size() && node.isArray(); i++) {
      refuseInterpolation(node.get(i), where + "[" + i + "]");
    }
  }

  /** The directory relative paths are resolved against. */
  Path projectDir() {
    return projectDir;
  }

  /** The services, in file order. */
  Map<String, Service> services() {
    return services;
  }

  /** The names declared under the top-level {@code volumes}. */
  List<String> namedVolumes() {
    List<String> names = new ArrayList<>();
    root.path("volumes").fieldNames().forEachRemaining(names::add);
    return names;
  }

  /** The host path of a bind mount's (or a build's) relative {@code source}. */
  Path hostPath(String source) {
    return projectDir.resolve(source).normalize();
  }

  /** One service of the file. */
  static final class Service {

    private final String name;
    private final JsonNode node;

    Service(String name, JsonNode node) {
      this.name = name;
      this.node = node;
    }

    String name() {
      return name;
    }

    /** The raw node, for the rarer keys ({@code deploy}, {@code healthcheck}, ...). */
    JsonNode node() {
      return node;
    }

    Optional<String> image() {
      JsonNode image = node.get("image");
      return image == null || image.isNull() ? Optional.empty() : Optional.of(image.asText());
    }

    /** The {@code build} section as its long form ({@code context}, {@code dockerfile}, ...). */
    Optional<JsonNode> build() {
      JsonNode build = node.get("build");
      if (build == null || build.isNull()) {
        return Optional.empty();
      }
      if (build.isTextual()) {
        return Optional.of(YAML.createObjectNode().put("context", build.asText()));
      }
      return Optional.of(build);
    }

    List<String> command() {
      return words(node.get("command"));
    }

    List<String> entrypoint() {
      return words(node.get("entrypoint"));
    }

    List<String> profiles() {
      return words(node.get("profiles"));
    }

    /** Variables with a value; a bare {@code KEY} (taken from the host) is left out. */
    Map<String, String> environment() {
      Map<String, String> env = new LinkedHashMap<>();
      JsonNode e = node.get("environment");
      if (e == null || e.isNull()) {
        return env;
      }
      if (e.isObject()) {
        for (Map.Entry<String, JsonNode> entry : e.properties()) {
          if (!entry.getValue().isNull()) {
            env.put(entry.getKey(), entry.getValue().asText());
          }
        }
      } else {
        for (JsonNode item : e) {
          String text = item.asText();
          int eq = text.indexOf('=');
          if (eq > 0) {
            env.put(text.substring(0, eq), text.substring(eq + 1));
          }
        }
      }
      return env;
    }

    List<Mount> volumes() {
      List<Mount> mounts = new ArrayList<>();
      for (JsonNode v : node.path("volumes")) {
        if (v.isTextual()) {
          String[] parts = v.asText().split(":", -1);
          String source = parts.length > 1 ? parts[0] : "";
          String target = parts.length > 1 ? parts[1] : parts[0];
          boolean readOnly = parts.length > 2 && List.of(parts[2].split(",", -1)).contains("ro");
          mounts.add(new Mount(source, target, readOnly, isBindSource(source)));
        } else {
          String source = v.path("source").asText("");
          mounts.add(
              new Mount(
                  source,
                  v.path("target").asText(),
                  v.path("read_only").asBoolean(false),
                  v.path("type").asText("").equals("bind")));
        }
      }
      return mounts;
    }

    private static boolean isBindSource(String source) {
      return source.startsWith(".") || source.startsWith("/") || source.startsWith("~");
    }

    /** The mount whose target holds {@code containerPath} most closely, if any. */
    Optional<Mount> mountFor(Path containerPath) {
      Mount best = null;
      for (Mount m : volumes()) {
        if (m.covers(containerPath)
            && (best == null || m.target().length() > best.target().length())) {
          best = m;
        }
      }
      return Optional.ofNullable(best);
    }

    List<PortMapping> ports() {
      List<PortMapping> ports = new ArrayList<>();
      for (JsonNode p : node.path("ports")) {
        if (p.isObject()) {
          JsonNode published = p.get("published");
          ports.add(
              new PortMapping(
                  published == null ? null : Integer.valueOf(published.asText()),
                  p.path("target").asInt()));
        } else {
          String text = p.asText();
          int slash = text.indexOf('/');
          String[] parts = (slash < 0 ? text : text.substring(0, slash)).split(":", -1);
          int container = Integer.parseInt(parts[parts.length - 1]);
          Integer host = parts.length > 1 ? Integer.valueOf(parts[parts.length - 2]) : null;
          ports.add(new PortMapping(host, container));
        }
      }
      return ports;
    }

    /** Services this one depends on, with the condition ({@code service_started} by default). */
    Map<String, String> dependsOn() {
      Map<String, String> deps = new LinkedHashMap<>();
      JsonNode d = node.get("depends_on");
      if (d == null || d.isNull()) {
        return deps;
      }
      if (d.isArray()) {
        d.forEach(n -> deps.put(n.asText(), "service_started"));
      } else {
        for (Map.Entry<String, JsonNode> e : d.properties()) {
          deps.put(e.getKey(), e.getValue().path("condition").asText("service_started"));
        }
      }
      return deps;
    }

    /** The healthcheck's {@code test}, e.g. [CMD, curl, -fsS, URL]; empty when none. */
    List<String> healthcheckTest() {
      return words(node.path("healthcheck").get("test"));
    }

    private static List<String> words(@Nullable JsonNode n) {
      List<String> words = new ArrayList<>();
      if (n == null || n.isNull() || n.isMissingNode()) {
        return words;
      }
      if (n.isArray()) {
        n.forEach(w -> words.add(w.asText()));
      } else {
        for (String w : n.asText().trim().split("\\s+", -1)) {
          if (!w.isEmpty()) {
            words.add(w);
          }
        }
      }
      return words;
    }
  }
}
