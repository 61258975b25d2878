package io.saestream.sae.checkpoint;

/** The {@code normalize_activations} modes of sae-lens. */
public enum ActivationNormalization {
  NONE("none"),
  /** Per row {@code x * sqrt(d_in) / ||x||}, undone on the output. */
  CONSTANT_NORM_RESCALE("constant_norm_rescale"),
  /** Per row {@code (x - mean) / (std_unbiased + 1e-5)}, undone on the output. */
  LAYER_NORM("layer_norm"),
  /**
   * A training-time scale factor; it must be folded into the weights before serving, so an
   * inference checkpoint that still carries it is refused.
   */
  EXPECTED_AVERAGE_ONLY_IN("expected_average_only_in");

  private final String cfgName;

  ActivationNormalization(String cfgName) {
    this.cfgName = cfgName;
  }

  /** The name used in {@code cfg.json}. */
  public String cfgName() {
    return cfgName;
  }

  /**
   * Parses the {@code cfg.json} name.
   *
   * @throws IllegalArgumentException listing the known modes
   */
  public static ActivationNormalization fromCfgName(String name) {
    for (ActivationNormalization a : values()) {
      if (a.cfgName.equals(name)) {
        return a;
      }
    }
    throw new IllegalArgumentException(
        "unknown normalize_activations '"
            + name
            + "', expected one of none, constant_norm_rescale, layer_norm,"
            + " expected_average_only_in");
  }
}
