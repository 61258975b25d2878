package io.saestream.launcher.demo;

import java.util.ArrayList;
import java.util.List;

/**
 * The demo at the size its integration tests run it: d_in 64 and a TopK SAE of 256 latents with k
 * 8, small enough for two busy cores, wide enough that training visibly lowers the reconstruction
 * error. Stateless.
 */
final class SmallDemo {

  private static final List<String> SIZE = List.of("--d-in", "64", "--d-sae", "256", "--k", "8");

  private SmallDemo() {}

  /** The arguments of {@code sae-stream demo} at this size, followed by {@code options}. */
  static List<String> arguments(String... options) {
    List<String> arguments = new ArrayList<>();
    arguments.add("demo");
    arguments.addAll(SIZE);
    arguments.addAll(List.of(options));
    return List.copyOf(arguments);
  }
}
