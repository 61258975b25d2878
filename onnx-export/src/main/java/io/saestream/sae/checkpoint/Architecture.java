package io.saestream.sae.checkpoint;

/** SAE architectures as named by the {@code architecture} field of a sae-lens {@code cfg.json}. */
public enum Architecture {
  STANDARD("standard", false),
  TOPK("topk", false),
  JUMPRELU("jumprelu", false),
  GATED("gated", false),
  /** Training-only in sae-lens; saved for inference as {@link #JUMPRELU}. */
  BATCHTOPK("batchtopk", true);

  private final String cfgName;
  private final boolean trainingOnly;

  Architecture(String cfgName, boolean trainingOnly) {
    this.cfgName = cfgName;
    this.trainingOnly = trainingOnly;
  }

  /** The name used in {@code cfg.json}. */
  public String cfgName() {
    return cfgName;
  }

  /** Whether sae-lens only knows this architecture as a training SAE. */
  public boolean trainingOnly() {
    return trainingOnly;
  }

  /**
   * Parses the {@code cfg.json} name.
   *
   * @throws IllegalArgumentException listing the known architectures
   */
  public static Architecture fromCfgName(String name) {
    for (Architecture a : values()) {
      if (a.cfgName.equals(name)) {
        return a;
      }
    }
    throw new IllegalArgumentException(
        "unknown architecture '"
            + name
            + "', expected one of standard, topk, jumprelu, gated, batchtopk");
  }
}
