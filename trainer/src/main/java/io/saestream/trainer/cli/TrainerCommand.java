package io.saestream.trainer.cli;

import io.saestream.sae.cli.SignalStop;
import io.saestream.trainer.app.TrainerApp;
import io.saestream.trainer.config.TrainerConfig;
import io.saestream.trainer.config.TrainerConfigLoader;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code trainer --config <file>}: runs the sidecar trainer until the process is stopped, then
 * publishes and commits. Exit codes: 0 after a clean shutdown, 2 for a bad configuration (the
 * message names the key), 1 when the trainer fails. One instance per invocation.
 */
@Command(
    name = "trainer",
    mixinStandardHelpOptions = true,
    description = "Trains SAEs online on the activations topic and publishes checkpoints.")
public final class TrainerCommand implements Callable<Integer> {

  /** Exit code for a bad configuration. */
  public static final int EXIT_BAD_CONFIG = 2;

  private static final Duration SHUTDOWN_TIMEOUT = Duration.ofMinutes(2);

  private static final Logger LOG = LoggerFactory.getLogger(TrainerCommand.class);

  @Spec private CommandSpec spec;

  @Option(
      names = "--config",
      required = true,
      paramLabel = "<file>",
      description = "YAML configuration (SAE_STREAM_* variables override it).")
  private Path config;

  private final Map<String, String> environment;

  /** A command reading the process environment. */
  public TrainerCommand() {
    this(System.getenv());
  }

  /** A command reading {@code environment} (tests). */
  public TrainerCommand(Map<String, String> environment) {
    this.environment = Map.copyOf(environment);
    this.spec = CommandSpec.create();
    this.config = Path.of("trainer.yaml");
  }

  /** Entry point. */
  public static void main(String[] args) {
    if (System.getProperty("org.apache.avro.SERIALIZABLE_PACKAGES") == null) {
      System.setProperty("org.apache.avro.SERIALIZABLE_PACKAGES", "io.saestream");
    }
    System.exit(new CommandLine(new TrainerCommand()).execute(args));
  }

  @Override
  public Integer call() {
    TrainerConfig loaded;
    try {
      loaded = TrainerConfigLoader.load(config, environment);
    } catch (IllegalArgumentException | UncheckedIOException e) {
      spec.commandLine().getErr().println("bad configuration: " + e.getMessage());
      spec.commandLine().getErr().flush();
      return EXIT_BAD_CONFIG;
    }
    LOG.info("starting the trainer with {}", loaded);
    try (TrainerApp app = TrainerApp.create(loaded)) {
      Thread hook =
          new Thread(
              () -> {
                app.shutdown();
                try {
                  // The JVM exits when the hooks return: wait for the final publication.
                  if (!app.awaitStopped(SHUTDOWN_TIMEOUT)) {
                    LOG.warn("the final publication did not finish within {}", SHUTDOWN_TIMEOUT);
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              },
              "trainer-shutdown");
      // The fallback: SIGTERM and Ctrl-C are handled instead (see SignalStop: ONNX Runtime's own
      // shutdown hook would release its native environment under a running step).
      Runtime.getRuntime().addShutdownHook(hook);
      try (SignalStop signals =
          SignalStop.install(
              signal -> {
                LOG.info("{}: stopping after a final publication", signal);
                app.shutdown();
              })) {
        LOG.debug("stopping on {}", signals.handled());
        app.run();
      }
    }
    return 0;
  }
}
