package io.saestream.sae.onnx;

import java.util.Locale;

/** Which inference graph {@link SaeOnnxExporter} builds; the contracts are on each constant. */
public enum GraphKind {
  /**
   * Encode, decode and measure in one pass. Input {@code x} float32 {@code [N, d_in]}; outputs
   * {@code indices} int64 {@code [N, K]}, {@code values} float32 {@code [N, K]}, {@code sae_out}
   * float32 {@code [N, d_in]}, and per token {@code sse}, {@code relative_error}, {@code cosine}
   * (float32 {@code [N]}), {@code l0} and {@code dropped} (int64 {@code [N]}).
   */
  ANALYZE("analyze"),
  /**
   * Encode only. Input {@code x}; outputs {@code indices}, {@code values}, {@code l0}, {@code
   * dropped} (identical to analyze's), plus {@code norm_scale} and {@code norm_shift} (float32
   * {@code [N]}) when the SAE normalises its input: {@code ‖x‖/sqrt(d_in)} and 0 for
   * constant_norm_rescale, the unbiased std and the mean for layer_norm. Pass them to the decoder.
   */
  ENCODER("encoder"),
  /**
   * Decode only. Inputs {@code indices} int64 {@code [N, K]} (−1 marks an unused slot; its value is
   * ignored) and {@code values} float32 {@code [N, K]}, K dynamic, plus {@code norm_scale} and
   * {@code norm_shift} when the SAE normalises; output {@code sae_out} float32 {@code [N, d_in]}.
   */
  DECODER("decoder");

  private final String cliName;

  GraphKind(String cliName) {
    this.cliName = cliName;
  }

  /** The lower-case name used on the command line and in the model metadata. */
  public String cliName() {
    return cliName;
  }

  /**
   * Parses a command-line name, case-insensitively.
   *
   * @throws IllegalArgumentException listing the known names
   */
  public static GraphKind fromCliName(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    for (GraphKind g : values()) {
      if (g.cliName.equals(n)) {
        return g;
      }
    }
    throw new IllegalArgumentException(
        "unknown graph '" + name + "', expected one of analyze, encoder, decoder");
  }
}
