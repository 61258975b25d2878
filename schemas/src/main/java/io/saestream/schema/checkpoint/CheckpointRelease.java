package io.saestream.schema.checkpoint;

import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One checkpoint to publish: what the manifest says about it and its payload.
 *
 * @param saeId the SAE; see {@link CheckpointKeys#saeIdProblem} for the accepted form
 * @param version strictly greater than every version published before for {@code saeId}, >= 1
 * @param architecture sae-lens architecture of the payload: standard, topk, jumprelu or gated
 * @param dIn input width, as in the payload's cfg.json
 * @param dSae number of latents, as in the payload's cfg.json
 * @param k latents kept per token for topk, null for the other architectures
 * @param cfgJson the payload's cfg.json, verbatim
 * @param payload the zip archive ({@link CheckpointArchive}) of the folded inference checkpoint
 * @param training evaluation at publication time, or null for a checkpoint not trained here
 */
public record CheckpointRelease(
    String saeId,
    long version,
    String architecture,
    int dIn,
    int dSae,
    @Nullable Integer k,
    String cfgJson,
    PayloadSource payload,
    @Nullable TrainingStats training) {

  /** Architectures a manifest may name (batchtopk is published as jumprelu). */
  public static final Set<String> ARCHITECTURES = Set.of("standard", "topk", "jumprelu", "gated");

  /** Validates the fields. */
  public CheckpointRelease {
    Objects.requireNonNull(saeId, "saeId");
    Objects.requireNonNull(architecture, "architecture");
    Objects.requireNonNull(cfgJson, "cfgJson");
    Objects.requireNonNull(payload, "payload");
    CheckpointKeys.requireValidSaeId(saeId);
    if (version < 1) {
      throw new IllegalArgumentException("version must be >= 1, was " + version);
    }
    if (!ARCHITECTURES.contains(architecture)) {
      throw new IllegalArgumentException(
          "architecture must be one of gated, jumprelu, standard, topk, was '"
              + architecture
              + "'");
    }
    if (dIn <= 0) {
      throw new IllegalArgumentException("d_in must be > 0, was " + dIn);
    }
    if (dSae <= 0) {
      throw new IllegalArgumentException("d_sae must be > 0, was " + dSae);
    }
    if (architecture.equals("topk") != (k != null)) {
      throw new IllegalArgumentException(
          "k must be set for topk and only for topk, was " + k + " for " + architecture);
    }
    if (k != null && (k <= 0 || k > dSae)) {
      throw new IllegalArgumentException("k must be in [1, d_sae=" + dSae + "], was " + k);
    }
    if (cfgJson.isBlank()) {
      throw new IllegalArgumentException("cfg_json must not be blank");
    }
    if (payload.size() <= 0) {
      throw new IllegalArgumentException("payload must not be empty, has " + payload.size());
    }
  }
}
