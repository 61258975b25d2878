package io.saestream.streams.config;

import java.nio.file.Path;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One SAE to serve: a sae-lens SAE directory ({@code cfg.json} + {@code sae_weights.safetensors})
 * and the hook it reads. Messages name keys relative to the deployment; the loader prefixes them
 * with {@code deployments[i].}.
 *
 * @param saeId identifier written into every FeatureBatch and ReconstructionStats; unique per app
 * @param path the sae-lens SAE directory
 * @param modelId the model whose activations the SAE reads; null to use {@code
 *     cfg.json:metadata.model_name}
 * @param hookName the hook the SAE reads; null to use {@code cfg.json:metadata.hook_name}
 * @param maxActive K, the number of latents reported per token, for standard, jumprelu and gated
 *     SAEs (a topk SAE reports its k); null for the exporter's default
 * @param version the version reported as {@code sae_version}
 */
public record SaeDeployment(
    String saeId,
    Path path,
    @Nullable String modelId,
    @Nullable String hookName,
    @Nullable Integer maxActive,
    long version) {

  /** Validates the deployment. */
  public SaeDeployment {
    Objects.requireNonNull(saeId, "sae-id");
    Objects.requireNonNull(path, "path");
    requireToken("sae-id", saeId);
    if (modelId != null) {
      requireToken("model-id", modelId);
    }
    if (hookName != null) {
      requireToken("hook-name", hookName);
    }
    if (maxActive != null && maxActive <= 0) {
      throw new IllegalArgumentException("max-active must be > 0, was " + maxActive);
    }
    if (version < 0) {
      throw new IllegalArgumentException("version must be >= 0, was " + version);
    }
  }

  /** A deployment that takes model and hook from the checkpoint, default K, version 0. */
  public static SaeDeployment of(String saeId, Path path) {
    return new SaeDeployment(saeId, path, null, null, null, 0);
  }

  /** A copy that serves {@code hook} of {@code model}, whatever the checkpoint's metadata says. */
  public SaeDeployment withHook(String model, String hook) {
    return new SaeDeployment(saeId, path, model, hook, maxActive, version);
  }

  /** A copy reporting K = {@code k} latents per token. */
  public SaeDeployment withMaxActive(int k) {
    return new SaeDeployment(saeId, path, modelId, hookName, k, version);
  }

  private static void requireToken(String key, String value) {
    if (value.isBlank()) {
      throw new IllegalArgumentException(key + " must not be blank");
    }
    for (int i = 0; i < value.length(); i++) {
      if (Character.isWhitespace(value.charAt(i)) || Character.isISOControl(value.charAt(i))) {
        throw new IllegalArgumentException(
            key + " must not contain whitespace or control characters, was '" + value + "'");
      }
    }
  }
}
