package io.saestream.sae.checkpoint;

import java.util.Locale;

/** Element types a sae-lens safetensors file may hold; names follow the safetensors header. */
public enum DType {
  F64(8),
  F32(4),
  F16(2),
  BF16(2);

  private final int byteSize;

  DType(int byteSize) {
    this.byteSize = byteSize;
  }

  /** Bytes per element. */
  public int byteSize() {
    return byteSize;
  }

  /**
   * Parses a safetensors dtype name.
   *
   * @throws IllegalArgumentException naming the supported types when {@code name} is not one
   */
  public static DType fromSafetensorsName(String name) {
    for (DType t : values()) {
      if (t.name().equals(name)) {
        return t;
      }
    }
    throw new IllegalArgumentException(
        "unsupported dtype '" + name + "', expected one of F64, F32, F16, BF16");
  }

  /**
   * The dtype a sae-lens {@code cfg.json} "dtype" field names ("float32", "torch.bfloat16", ...).
   *
   * @throws IllegalArgumentException for names sae-lens does not use
   */
  public static DType fromTorchName(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    if (n.startsWith("torch.")) {
      n = n.substring("torch.".length());
    }
    return switch (n) {
      case "float32", "float" -> F32;
      case "float16", "half" -> F16;
      case "bfloat16" -> BF16;
      case "float64", "double" -> F64;
      default ->
          throw new IllegalArgumentException(
              "unsupported dtype '" + name + "', expected float32, float16, bfloat16 or float64");
    };
  }
}
