package io.saestream.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.saestream.streams.config.ConfigLoader;
import io.saestream.trainer.config.TrainerConfigLoader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * docs/configuration.md agrees with the code: it documents every key and variable the loaders and
 * commands read, and every key and variable it documents is one they read.
 */
class ConfigurationReferenceTest {

  private static final String DOC = read(projectRoot().resolve("docs/configuration.md"));
  private static final Pattern VARIABLE = Pattern.compile("SAE_STREAM_[A-Z0-9_]+");
  private static final Pattern KEY = Pattern.compile("`([a-z-]+\\.[a-z-]+)`");

  private static Path projectRoot() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("docs/configuration.md"))
          && Files.isRegularFile(p.resolve("mvnw"))) {
        return p;
      }
    }
    throw new IllegalStateException("no docs/configuration.md next to mvnw above the cwd");
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The text between heading {@code from} and the next heading of the same level. */
  private static String section(String from) {
    int start = DOC.indexOf("\n" + from + "\n");
    assertThat(start).as("heading %s", from).isNotNegative();
    String level = from.substring(0, from.indexOf(' ') + 1);
    int end = DOC.indexOf("\n" + level, start + from.length() + 1);
    return DOC.substring(start, end < 0 ? DOC.length() : end);
  }

  private static Set<String> matches(Pattern pattern, String text) {
    Set<String> found = new TreeSet<>();
    Matcher m = pattern.matcher(text);
    while (m.find()) {
      found.add(m.groupCount() > 0 ? m.group(1) : m.group());
    }
    return found;
  }

  @Test
  void everyStreamsKeyAndVariableIsDocumented() {
    String streams = section("## `sae-stream streams`");
    for (String key : ConfigLoader.scalarKeys()) {
      assertThat(streams).as("variable of %s", key).contains(ConfigLoader.environmentVariable(key));
    }
  }

  @Test
  void everyDocumentedStreamsKeyExists() {
    String streams = section("## `sae-stream streams`");
    Set<String> known = new TreeSet<>(ConfigLoader.scalarKeys());
    Set<String> sections = new TreeSet<>();
    known.forEach(k -> sections.add(k.substring(0, k.indexOf('.'))));
    // Other dotted names in backticks are Kafka properties or files (`processing.guarantee`).
    for (String key : matches(KEY, streams)) {
      if (sections.contains(key.substring(0, key.indexOf('.')))
          && !key.equals("kafka.properties")) {
        assertThat(known).as("documented key %s is a streams key", key).contains(key);
      }
    }
    for (String variable : matches(VARIABLE, streams)) {
      if (variable.equals("SAE_STREAM_KAFKA_PROPERTIES_")) {
        continue;
      }
      assertThat(
              known.stream().map(ConfigLoader::environmentVariable).anyMatch(variable::equals)
                  || variable.startsWith("SAE_STREAM_KAFKA_PROPERTIES_"))
          .as("documented variable %s is read by the streams loader", variable)
          .isTrue();
    }
  }

  @Test
  void everyDocumentedTrainerVariableIsReadByTheTrainer() {
    Set<String> variables = matches(VARIABLE, section("## `sae-stream trainer`"));
    variables.remove("SAE_STREAM_KAFKA_PROPERTIES_");
    assertThat(variables).contains("SAE_STREAM_RUNTIME_DEVICE", "SAE_STREAM_STATE_DIR");
    for (String variable : variables) {
      List<String> warnings =
          LoaderWarnings.during(
              () -> {
                try {
                  TrainerConfigLoader.parse(
                      "trainers: [{sae-id: t, model-id: m, hook-name: h, d-in: 8, d-sae: 16, k: 4}]",
                      Path.of("."),
                      Map.of(variable, "1"));
                } catch (IllegalArgumentException e) {
                  // "1" is not a valid value of every key; only whether it was taken matters.
                }
              });
      assertThat(warnings).as("warnings for %s", variable).noneMatch(w -> w.contains(variable));
    }
  }

  @Test
  void everyProduceOptionIsDocumented() {
    String produce = section("## `sae-stream produce`");
    CommandLine command =
        Objects.requireNonNull(
            SaeStreamCommand.commandLine().getSubcommands().get("produce"), "produce");
    for (OptionSpec option : command.getCommandSpec().options()) {
      if (!option.usageHelp() && !option.versionHelp()) {
        assertThat(produce).as("produce option").contains("`" + option.longestName());
      }
    }
  }
}
