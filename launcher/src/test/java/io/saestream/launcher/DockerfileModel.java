package io.saestream.launcher;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The parts of a Dockerfile the compose checks need: its stages (name, base image, instructions)
 * and its {@code ARG}s. Continuation lines are joined and comments dropped; {@code ${ARG}} in a
 * {@code FROM} is replaced by the ARG's default. Immutable.
 */
final class DockerfileModel {

  private static final Pattern FROM =
      Pattern.compile("(?i)FROM\\s+(?:--\\S+\\s+)*(\\S+)(?:\\s+AS\\s+(\\S+))?\\s*");
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{?([A-Za-z_][A-Za-z0-9_]*)\\}?");

  /** One instruction: keyword upper-cased, the rest as written. */
  record Instruction(String keyword, String arguments) {}

  /** One build stage. */
  record Stage(@Nullable String name, String base, List<Instruction> instructions) {}

  private final List<Stage> stages;
  private final Map<String, String> globalArgs;
  private final Set<String> declaredArgs;

  private DockerfileModel(
      List<Stage> stages, Map<String, String> globalArgs, Set<String> declaredArgs) {
    this.stages = List.copyOf(stages);
    this.globalArgs = Map.copyOf(globalArgs);
    this.declaredArgs = Set.copyOf(declaredArgs);
  }

  /** Parses Dockerfile {@code text}. */
  static DockerfileModel parse(String text) {
    List<Instruction> instructions = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String raw : text.split("\n", -1)) {
      String line = raw.strip();
      if (current.length() == 0 && (line.isEmpty() || line.startsWith("#"))) {
        continue;
      }
      if (line.startsWith("#")) {
        continue; // a comment inside a continued instruction
      }
      if (line.endsWith("\\")) {
        current.append(line, 0, line.length() - 1).append(' ');
        continue;
      }
      current.append(line);
      String joined = current.toString().strip();
      current.setLength(0);
      if (joined.isEmpty()) {
        continue;
      }
      int space = joined.indexOf(' ');
      instructions.add(
          new Instruction(
              (space < 0 ? joined : joined.substring(0, space)).toUpperCase(Locale.ROOT),
              space < 0 ? "" : joined.substring(space + 1).strip()));
    }

    Map<String, String> globalArgs = new LinkedHashMap<>();
    Set<String> declared = new TreeSet<>();
    List<Stage> stages = new ArrayList<>();
    String name = null;
    String base = null;
    List<Instruction> body = new ArrayList<>();
    for (Instruction i : instructions) {
      if (i.keyword().equals("ARG")) {
        String arg = i.arguments();
        int eq = arg.indexOf('=');
        String argName = eq < 0 ? arg : arg.substring(0, eq);
        declared.add(argName);
        if (base == null) {
          globalArgs.put(argName, eq < 0 ? "" : arg.substring(eq + 1).replace("\"", ""));
        }
      }
      if (i.keyword().equals("FROM")) {
        if (base != null) {
          stages.add(new Stage(name, base, body));
        }
        Matcher m = FROM.matcher(i.arguments().isEmpty() ? "" : "FROM " + i.arguments());
        if (!m.matches()) {
          throw new IllegalArgumentException("cannot read FROM " + i.arguments());
        }
        base = substitute(m.group(1), globalArgs);
        name = m.group(2);
        body = new ArrayList<>();
      } else if (base != null) {
        body.add(i);
      }
    }
    if (base != null) {
      stages.add(new Stage(name, base, body));
    }
    return new DockerfileModel(stages, globalArgs, declared);
  }

  private static String substitute(String text, Map<String, String> args) {
    Matcher m = VARIABLE.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(args.getOrDefault(m.group(1), "")));
    }
    m.appendTail(out);
    return out.toString();
  }

  List<Stage> stages() {
    return stages;
  }

  /** Every ARG name, global or in a stage. */
  Set<String> declaredArgs() {
    return declaredArgs;
  }

  Optional<Stage> stage(String stageName) {
    return stages.stream().filter(s -> stageName.equals(s.name())).findFirst();
  }

  /** Whether {@code image} names an earlier stage rather than an image. */
  boolean isStage(String image) {
    return stages.stream().anyMatch(s -> image.equals(s.name()));
  }

  /** The image a stage is built on, following stage-on-stage bases to the real image. */
  String rootImage(Stage stage) {
    Stage s = stage;
    for (int hops = 0; hops <= stages.size(); hops++) {
      Optional<Stage> parent = stage(s.base());
      if (parent.isEmpty()) {
        return s.base();
      }
      s = parent.get();
    }
    throw new IllegalArgumentException("stages form a cycle at " + stage.name());
  }

  /** The stage a build without {@code --target} produces: the last one. */
  Stage lastStage() {
    return stages.get(stages.size() - 1);
  }

  /** The global ARG defaults. */
  Map<String, String> globalArgs() {
    return globalArgs;
  }
}
