package io.saestream.launcher;

import io.saestream.launcher.bench.BenchCommand;
import io.saestream.launcher.demo.DemoCommand;
import io.saestream.sae.cli.CliExceptionHandler;
import io.saestream.sae.cli.ExportCommand;
import io.saestream.streams.cli.StreamsCommand;
import io.saestream.synthetic.cli.ProduceCommand;
import io.saestream.trainer.cli.TrainerCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code sae-stream} command: one entry point for every component of the product. */
@Command(
    name = "sae-stream",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Sparse autoencoders over live LLM activations on Kafka.",
    subcommands = {
      StreamsCommand.class,
      TrainerCommand.class,
      ProduceCommand.class,
      ExportCommand.class,
      BenchCommand.class,
      DemoCommand.class,
      CommandLine.HelpCommand.class
    })
public final class SaeStreamCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
  }

  /** Builds the command line with the product's error handling (used by main and tests). */
  public static CommandLine commandLine() {
    return CliExceptionHandler.install(new CommandLine(new SaeStreamCommand()));
  }

  /** Runs the command and exits with its exit code. */
  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }
}
