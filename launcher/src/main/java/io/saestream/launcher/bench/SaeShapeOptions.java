package io.saestream.launcher.bench;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * {@code --d-in}, {@code --d-sae} and {@code --k}: the shape of the synthetic topk SAE a benchmark
 * builds, a picocli mixin. Each command creates its own instance; the values it is created with are
 * the options' defaults (picocli takes a field's initial value as its default and resets the field
 * to it before each parse). Set by picocli while parsing, then read by the command on the same
 * thread.
 */
final class SaeShapeOptions {

  @Option(names = "--d-in")
  int dIn;

  @Option(names = "--d-sae")
  int dSae;

  @Option(names = "--k")
  int k;

  private SaeShapeOptions(int dIn, int dSae, int k) {
    this.dIn = dIn;
    this.dSae = dSae;
    this.k = k;
  }

  /** The default of the throughput benchmarks: d_in 768, d_sae 16384, k 32. */
  static SaeShapeOptions throughputDefaults() {
    return defaultingTo(768, 16_384, 32);
  }

  /** Options whose defaults are the given shape. */
  static SaeShapeOptions defaultingTo(int dIn, int dSae, int k) {
    return new SaeShapeOptions(dIn, dSae, k);
  }

  /** Refuses a size that is not positive, naming its option: {@code --k must be > 0, was 0}. */
  void requirePositive(CommandLine cli) {
    requirePositive(cli, "--d-in", dIn);
    requirePositive(cli, "--d-sae", dSae);
    requirePositive(cli, "--k", k);
  }

  /** Refuses {@code value} of {@code option} unless it is positive. */
  static void requirePositive(CommandLine cli, String option, int value) {
    if (value <= 0) {
      throw new CommandLine.ParameterException(cli, option + " must be > 0, was " + value);
    }
  }
}
