package io.saestream.sae.training;

import java.util.Objects;

/**
 * What one training step computes: the SAE's shape and sparsity, the aux-k coefficient, Adam's
 * constants and the gradient-norm clip. The batch size is not part of it: the graphs take any
 * batch. The learning rate and the step number are graph inputs, so schedules stay in Java.
 * Immutable; validated on construction.
 *
 * @param dIn input width; at least 2, since the aux-k loss uses {@code d_in / 2} latents
 * @param dSae number of latents
 * @param k latents kept per token: an integer for {@link SparsityRule#TOPK}; for {@link
 *     SparsityRule#BATCH_TOPK} the batch keeps {@code ⌊k·B⌋} activations, so k may be fractional
 * @param rule TopK or BatchTopK
 * @param auxLossCoefficient weight of the aux-k (dead-latent) loss; sae-lens default 1
 * @param adamBeta1 Adam's β1 in [0, 1); sae-lens default 0
 * @param adamBeta2 Adam's β2 in [0, 1); sae-lens default 0.999
 * @param adamEpsilon Adam's ε &gt; 0; torch's default 1e-8
 * @param maxGradNorm the global L2 norm the gradients are clipped to before Adam (sae-lens always
 *     clips to 1); {@code Double.POSITIVE_INFINITY} disables clipping
 */
public record TrainingStepSpec(
    int dIn,
    int dSae,
    double k,
    SparsityRule rule,
    double auxLossCoefficient,
    double adamBeta1,
    double adamBeta2,
    double adamEpsilon,
    double maxGradNorm) {

  /** sae-lens's Adam β1 ({@code LanguageModelSAERunnerConfig.adam_beta1}). */
  public static final double SAE_LENS_ADAM_BETA1 = 0.0;

  /** sae-lens's Adam β2. */
  public static final double SAE_LENS_ADAM_BETA2 = 0.999;

  /** torch.optim.Adam's default ε, which sae-lens keeps. */
  public static final double TORCH_ADAM_EPSILON = 1e-8;

  /** The norm sae-lens's trainer clips the gradients to ({@code clip_grad_norm_(…, 1.0)}). */
  public static final double SAE_LENS_MAX_GRAD_NORM = 1.0;

  /** Validates every field. */
  public TrainingStepSpec {
    Objects.requireNonNull(rule, "rule");
    if (dIn < 2) {
      throw new IllegalArgumentException("d_in must be >= 2, was " + dIn);
    }
    if (dSae <= 0) {
      throw new IllegalArgumentException("d_sae must be > 0, was " + dSae);
    }
    if (!(k >= 1 && k <= dSae)) {
      throw new IllegalArgumentException("k must be in [1, d_sae=" + dSae + "], was " + k);
    }
    if (rule == SparsityRule.TOPK && k != Math.rint(k)) {
      throw new IllegalArgumentException("k must be an integer for topk, was " + k);
    }
    if (!(auxLossCoefficient >= 0 && Double.isFinite(auxLossCoefficient))) {
      throw new IllegalArgumentException(
          "aux_loss_coefficient must be finite and >= 0, was " + auxLossCoefficient);
    }
    if (!(adamBeta1 >= 0 && adamBeta1 < 1)) {
      throw new IllegalArgumentException("adam_beta1 must be in [0, 1), was " + adamBeta1);
    }
    if (!(adamBeta2 >= 0 && adamBeta2 < 1)) {
      throw new IllegalArgumentException("adam_beta2 must be in [0, 1), was " + adamBeta2);
    }
    if (!(adamEpsilon > 0 && Double.isFinite(adamEpsilon))) {
      throw new IllegalArgumentException("adam_epsilon must be finite and > 0, was " + adamEpsilon);
    }
    if (!(maxGradNorm > 0)) {
      throw new IllegalArgumentException(
          "max_grad_norm must be > 0 (Infinity disables clipping), was " + maxGradNorm);
    }
  }

  /** A TopK step with sae-lens's defaults (aux coefficient 1, β = (0, 0.999), clip 1). */
  public static TrainingStepSpec topK(int dIn, int dSae, int k) {
    return withSaeLensDefaults(dIn, dSae, k, SparsityRule.TOPK);
  }

  /** A BatchTopK step with sae-lens's defaults (aux coefficient 1, β = (0, 0.999), clip 1). */
  public static TrainingStepSpec batchTopK(int dIn, int dSae, double k) {
    return withSaeLensDefaults(dIn, dSae, k, SparsityRule.BATCH_TOPK);
  }

  private static TrainingStepSpec withSaeLensDefaults(
      int dIn, int dSae, double k, SparsityRule rule) {
    return new TrainingStepSpec(
        dIn,
        dSae,
        k,
        rule,
        1.0,
        SAE_LENS_ADAM_BETA1,
        SAE_LENS_ADAM_BETA2,
        TORCH_ADAM_EPSILON,
        SAE_LENS_MAX_GRAD_NORM);
  }

  /** This spec with other Adam constants. */
  public TrainingStepSpec withAdam(double beta1, double beta2, double epsilon) {
    return new TrainingStepSpec(
        dIn, dSae, k, rule, auxLossCoefficient, beta1, beta2, epsilon, maxGradNorm);
  }

  /** This spec with another aux-k coefficient. */
  public TrainingStepSpec withAuxLossCoefficient(double coefficient) {
    return new TrainingStepSpec(
        dIn, dSae, k, rule, coefficient, adamBeta1, adamBeta2, adamEpsilon, maxGradNorm);
  }

  /** This spec with another clip norm ({@code Double.POSITIVE_INFINITY}: no clipping). */
  public TrainingStepSpec withMaxGradNorm(double norm) {
    return new TrainingStepSpec(
        dIn, dSae, k, rule, auxLossCoefficient, adamBeta1, adamBeta2, adamEpsilon, norm);
  }

  /** sae-lens's aux-k budget before capping by the dead count: {@code d_in // 2}. */
  public int auxK() {
    return dIn / 2;
  }

  /** Whether the step clips the gradient norm. */
  public boolean clipsGradients() {
    return maxGradNorm != Double.POSITIVE_INFINITY;
  }

  /**
   * The number of activations BatchTopK keeps in a batch of {@code batchSize} tokens, as sae-lens
   * computes it ({@code int(k * N)}); for TopK, {@code k·batchSize}, the upper bound of the nonzero
   * count.
   */
  public long keptPerBatch(long batchSize) {
    if (batchSize <= 0) {
      throw new IllegalArgumentException("batch size must be > 0, was " + batchSize);
    }
    return (long) Math.floor(k * batchSize);
  }
}
