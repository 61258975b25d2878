package io.saestream.synthetic.cli;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/**
 * The value of an option from the first source that has it: the command line, then the environment
 * ({@code SAE_STREAM_<NAME>}, e.g. {@code SAE_STREAM_D_IN} for {@code --d-in}), then the config
 * file (key = option name without dashes), then the built-in default. Conversion errors are usage
 * errors that name the source. Immutable; used by one command invocation.
 */
final class OptionSources {

  /** Prefix of the environment variables that set options. */
  static final String ENV_PREFIX = "SAE_STREAM_";

  private final CommandLine commandLine;
  private final Map<String, String> given;
  private final Map<String, String> env;
  private final Map<String, String> file;
  private final String fileName;

  /** A value with a description of where it came from, for error messages. */
  record Sourced(String text, String source) {}

  OptionSources(
      CommandLine commandLine,
      Map<String, String> given,
      Map<String, String> env,
      Map<String, String> file,
      String fileName) {
    this.commandLine = commandLine;
    this.given = Map.copyOf(given);
    this.env = Map.copyOf(env);
    this.file = Map.copyOf(file);
    this.fileName = fileName;
  }

  /** The environment variable that sets {@code --name}. */
  static String envName(String name) {
    return ENV_PREFIX + name.toUpperCase(Locale.ROOT).replace('-', '_');
  }

  /** The raw value of {@code --name} and its source, or null when no source sets it. */
  @Nullable Sourced find(String name) {
    String value = given.get(name);
    if (value != null) {
      return new Sourced(value, "--" + name);
    }
    value = env.get(envName(name));
    if (value != null) {
      return new Sourced(value, envName(name));
    }
    value = file.get(name);
    if (value != null) {
      return new Sourced(value, "'" + name + "' in " + fileName);
    }
    return null;
  }

  /** Whether any source sets {@code --name}. */
  boolean isSet(String name) {
    return find(name) != null;
  }

  /** The value of {@code --name} as text, or {@code fallback}. */
  String text(String name, String fallback) {
    Sourced value = find(name);
    if (value == null) {
      return fallback;
    }
    if (value.text().isBlank()) {
      throw usage(value.source() + " must not be blank");
    }
    return value.text().strip();
  }

  /** The value of {@code --name} converted by {@code parse}, or {@code fallback}. */
  <T> T convert(String name, T fallback, String expected, Function<String, T> parse) {
    Sourced value = find(name);
    if (value == null) {
      return fallback;
    }
    try {
      return Objects.requireNonNull(parse.apply(value.text().strip()), "converted value");
    } catch (IllegalArgumentException e) {
      String detail = e.getMessage();
      throw usage(
          value.source()
              + " must be "
              + expected
              + ", was '"
              + value.text()
              + "'"
              + (detail == null || e instanceof NumberFormatException ? "" : ": " + detail));
    }
  }

  /** {@code --name} as an integer > 0, or {@code fallback}. */
  int positiveInt(String name, int fallback) {
    int value = convert(name, fallback, "an integer", Integer::parseInt);
    if (value <= 0) {
      throw usage(sourceOf(name) + " must be > 0, was " + value);
    }
    return value;
  }

  /** {@code --name} as a long > 0, or {@code fallback}. */
  long positiveLong(String name, long fallback) {
    long value = convert(name, fallback, "an integer", Long::parseLong);
    if (value <= 0) {
      throw usage(sourceOf(name) + " must be > 0, was " + value);
    }
    return value;
  }

  /** {@code --name} as a finite number >= {@code min} (> when {@code exclusive}), or fallback. */
  double number(String name, double fallback, double min, boolean exclusive) {
    double value = convert(name, fallback, "a number", Double::parseDouble);
    if (Double.isNaN(value) || (exclusive ? value <= min : value < min)) {
      throw usage(
          sourceOf(name) + " must be " + (exclusive ? "> " : ">= ") + min + ", was " + value);
    }
    return value;
  }

  /** A usage error (exit code 2) with {@code message}. */
  ParameterException usage(String message) {
    return new ParameterException(commandLine, message);
  }

  private String sourceOf(String name) {
    Sourced value = find(name);
    return value == null ? "--" + name : value.source();
  }
}
