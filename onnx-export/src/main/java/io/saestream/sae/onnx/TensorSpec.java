package io.saestream.sae.onnx;

import java.util.List;
import java.util.Objects;

/**
 * Name, element type and shape of a graph input or output. Each dimension is a decimal size ({@code
 * "768"}) or a symbolic name ({@code "N"}, {@code "K"}) that is fixed per call. Immutable.
 *
 * @param name the ONNX value name
 * @param elementType {@code "float32"} or {@code "int64"}
 * @param dims dimensions, outermost first
 */
public record TensorSpec(String name, String elementType, List<String> dims) {

  /** Validates and copies {@code dims}. */
  public TensorSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(elementType, "elementType");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("name must not be empty");
    }
    if (!elementType.equals("float32") && !elementType.equals("int64")) {
      throw new IllegalArgumentException(
          "elementType must be float32 or int64, was " + elementType);
    }
    dims = List.copyOf(dims);
  }

  /** For example {@code indices: int64[N, 32]}. */
  @Override
  public String toString() {
    return name + ": " + elementType + dims;
  }
}
