package io.saestream.launcher.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code sae-stream bench}: measurements recorded in BENCHMARKS.md, each a side-by-side ratio. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Benchmarks (results go to BENCHMARKS.md; not tests).",
    subcommands = {
      AnalyzeBench.class,
      LargeExportBench.class,
      EndToEndBench.class,
      TrainBench.class
    })
public final class BenchCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "choose a benchmark");
  }
}
