package io.saestream.schema.checkpoint;

/**
 * Size caps applied while extracting a checkpoint archive, counted on the bytes actually
 * decompressed (never on the sizes the archive claims), so a zip bomb stops at the cap.
 *
 * @param maxConfigBytes largest accepted {@code cfg.json}
 * @param maxWeightsBytes largest accepted {@code sae_weights.safetensors}
 */
public record ArchiveLimits(long maxConfigBytes, long maxWeightsBytes) {

  /** Default {@link #maxConfigBytes()}: cfg.json is a few hundred bytes. */
  public static final long DEFAULT_MAX_CONFIG_BYTES = 1L << 20;

  /** Validates the caps. */
  public ArchiveLimits {
    if (maxConfigBytes <= 0) {
      throw new IllegalArgumentException("max cfg.json bytes must be > 0, was " + maxConfigBytes);
    }
    if (maxWeightsBytes <= 0) {
      throw new IllegalArgumentException("max weights bytes must be > 0, was " + maxWeightsBytes);
    }
  }

  /** 1 MiB of cfg.json and weights up to {@code maxWeightsBytes}. */
  public static ArchiveLimits of(long maxWeightsBytes) {
    return new ArchiveLimits(DEFAULT_MAX_CONFIG_BYTES, maxWeightsBytes);
  }
}
