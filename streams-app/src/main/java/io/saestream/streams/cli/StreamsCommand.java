package io.saestream.streams.cli;

import io.saestream.streams.StreamsApp;
import io.saestream.streams.config.StreamsAppConfig;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sae-stream streams --config <file>}: runs the streams app until SIGTERM/Ctrl-C. The
 * launcher adds it as a subcommand; {@link #main} runs it alone. Exit codes: 0 after a requested
 * shutdown, 1 when the app stopped because of a failure, 2 for an invalid configuration.
 */
@Command(
    name = "streams",
    mixinStandardHelpOptions = true,
    description = {
      "Runs SAEs over the activations topic (Kafka Streams + ONNX Runtime).",
      "Writes FeatureBatch and ReconstructionStats records and dead letters.",
      "",
      "Every scalar setting can be overridden by an environment variable SAE_STREAM_<KEY>"
          + " (key upper-cased, '.' and '-' as '_'), e.g. SAE_STREAM_KAFKA_BOOTSTRAP_SERVERS;"
          + " SAE_STREAM_KAFKA_PROPERTIES_<NAME> sets a Kafka client property (e.g. SASL, TLS)."
    })
public final class StreamsCommand implements Callable<Integer> {

  /** Exit code for a configuration that cannot be loaded. */
  public static final int EXIT_INVALID_CONFIG = 2;

  @Option(
      names = {"-c", "--config"},
      required = true,
      paramLabel = "<file>",
      description = "YAML configuration file (see streams-app/README.md).")
  private Path configFile = Path.of("sae-stream.yaml");

  @CommandLine.Spec
  private CommandLine.Model.CommandSpec spec = CommandLine.Model.CommandSpec.create();

  private final Map<String, String> environment;

  /** A command reading the process environment. */
  public StreamsCommand() {
    this(System.getenv());
  }

  /** A command reading {@code environment} instead of the process environment (tests). */
  public StreamsCommand(Map<String, String> environment) {
    this.environment = Map.copyOf(environment);
  }

  @Override
  public Integer call() throws InterruptedException {
    StreamsAppConfig config;
    try {
      config = StreamsAppConfig.load(configFile, environment);
    } catch (IllegalArgumentException | UncheckedIOException e) {
      spec.commandLine().getErr().println("Invalid configuration: " + e.getMessage());
      return EXIT_INVALID_CONFIG;
    }
    return StreamsApp.run(config);
  }

  /** Runs the command alone. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new StreamsCommand()).execute(args));
  }
}
