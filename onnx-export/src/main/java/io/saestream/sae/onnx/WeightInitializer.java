package io.saestream.sae.onnx;

import java.util.List;

/**
 * A float32 weight of the main graph whose bytes {@link OnnxModelWriter} streams after the graph
 * skeleton. Immutable; the shape must hold exactly {@code data}'s elements.
 */
record WeightInitializer(String name, List<Long> dims, WeightData data) {

  WeightInitializer {
    dims = List.copyOf(dims);
    long n = 1;
    for (long d : dims) {
      n *= d;
    }
    if (n != data.elementCount()) {
      throw new IllegalArgumentException(
          "weight " + name + " of shape " + dims + " has " + data.elementCount() + " elements");
    }
  }
}
