package io.saestream.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Every command of the {@code sae-stream} CLI, found by walking picocli's model of {@link
 * SaeStreamCommand} (so a new subcommand is covered without touching this test), prints its usage
 * on {@code --help} with exit code 0, and the usage names every visible option.
 */
class CliHelpTest {

  /** The output of one run of the real command line. */
  private record Run(int exitCode, String out, String err) {}

  private static Run run(List<String> args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = SaeStreamCommand.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args.toArray(String[]::new));
    return new Run(code, out.toString(), err.toString());
  }

  /** Paths of every command below the root, e.g. [streams], [bench, analyze]; parents first. */
  private static List<List<String>> commandPaths() {
    List<List<String>> paths = new ArrayList<>();
    collect(SaeStreamCommand.commandLine(), List.of(), paths);
    return paths;
  }

  private static void collect(CommandLine command, List<String> path, List<List<String>> into) {
    // getSubcommands() maps aliases too; the spec's own name is the canonical one.
    Set<String> seen = new HashSet<>();
    for (CommandLine sub : command.getSubcommands().values()) {
      String name = sub.getCommandSpec().name();
      if (seen.add(name)) {
        List<String> child = new ArrayList<>(path);
        child.add(name);
        into.add(List.copyOf(child));
        collect(sub, child, into);
      }
    }
  }

  private static CommandSpec spec(List<String> path) {
    CommandLine command = SaeStreamCommand.commandLine();
    for (String name : path) {
      command = Objects.requireNonNull(command.getSubcommands().get(name), name);
    }
    return command.getCommandSpec();
  }

  @Test
  void theWalkFindsEveryDocumentedCommand() {
    // Guards the walk itself: if it found nothing, the dynamic tests below would prove nothing.
    assertThat(commandPaths())
        .contains(
            List.of("streams"),
            List.of("trainer"),
            List.of("produce"),
            List.of("export"),
            List.of("demo"),
            List.of("bench"),
            List.of("bench", "analyze"),
            List.of("bench", "e2e"),
            List.of("bench", "export-large"),
            List.of("help"));
  }

  @Test
  void theRootHelpListsEverySubcommand() {
    Run run = run(List.of("--help"));

    assertThat(run.exitCode()).isZero();
    assertThat(run.err()).isEmpty();
    assertThat(run.out()).startsWith("Usage: sae-stream");
    for (List<String> path : commandPaths()) {
      if (path.size() == 1) {
        assertThat(run.out()).as("root usage lists %s", path).contains(path.get(0));
      }
    }
  }

  @TestFactory
  Stream<DynamicTest> everyCommandPrintsItsUsageOnHelp() {
    return commandPaths().stream()
        .map(
            path ->
                DynamicTest.dynamicTest(
                    String.join(" ", path) + " --help", () -> printsUsage(path)));
  }

  private static void printsUsage(List<String> path) {
    List<String> args = new ArrayList<>(path);
    args.add("--help");

    Run run = run(args);

    assertThat(run.exitCode()).as("exit code of %s", args).isZero();
    assertThat(run.err()).as("stderr of %s", args).isEmpty();
    // `help`'s own usage puts its description first, so not startsWith.
    assertThat(run.out()).contains("Usage: sae-stream " + String.join(" ", path));
    CommandSpec spec = spec(path);
    for (OptionSpec option : spec.options()) {
      if (!option.hidden()) {
        assertThat(run.out())
            .as("usage of %s names %s", path, option.longestName())
            .contains(displayedName(option));
      }
    }
    for (PositionalParamSpec parameter : spec.positionalParameters()) {
      if (!parameter.hidden()) {
        assertThat(run.out())
            .as("usage of %s names a parameter", path)
            .contains(parameter.paramLabel());
      }
    }
    for (CommandLine sub : spec.subcommands().values()) {
      assertThat(run.out())
          .as("usage of %s lists its subcommands", path)
          .contains(sub.getCommandSpec().name());
    }
  }

  /** How the usage shows an option: a negatable {@code --spin} appears as {@code --[no-]spin}. */
  private static String displayedName(OptionSpec option) {
    String name = option.longestName();
    return option.negatable() && name.startsWith("--") ? "--[no-]" + name.substring(2) : name;
  }

  @TestFactory
  Stream<DynamicTest> theHelpSubcommandPrintsTheSameUsage() {
    return commandPaths().stream()
        .filter(path -> path.size() == 1 && !path.get(0).equals("help"))
        .map(
            path ->
                DynamicTest.dynamicTest(
                    "help " + path.get(0),
                    () -> {
                      Run viaHelp = run(List.of("help", path.get(0)));
                      Run viaOption = run(List.of(path.get(0), "--help"));

                      assertThat(viaHelp.exitCode()).isZero();
                      assertThat(viaHelp.out()).isEqualTo(viaOption.out());
                    }));
  }

  @Test
  void anUnknownSubcommandIsAUsageError() {
    Run run = run(List.of("strems"));

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("strems");
  }
}
