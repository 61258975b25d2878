package io.saestream.sae.training;

/**
 * How a training-step graph lays out its computation; every formulation computes the same step
 * (they differ in float32 summation order only). See {@link TrainingStepGraph} for the costs.
 */
public enum Formulation {
  /**
   * Decoder, decoder gradient and encoder gradient touch only the selected latents (gather and
   * scatter-add over the k selected rows per token); the aux-k term works on the dead latents only.
   * The one dense product left is the encoder GEMM of the forward pass.
   */
  SPARSE,
  /**
   * {@link #SPARSE}, except that the encoder gradient is one dense GEMM {@code x'ᵀ·G} over the
   * mostly-zero {@code [B, d_sae]} pre-activation gradient G. On CPU (MLAS, 2 threads) this was
   * 1.3–1.5× slower per step than scattering the k rows per token; kept for comparison and for
   * execution providers whose scatter-add is slow.
   */
  SPARSE_GEMM_ENCODER_GRADIENT,
  /**
   * The textbook step: dense {@code [B, d_sae]} activations and gradients and eight GEMMs of {@code
   * B·d_in·d_sae}. The benchmark's baseline (3–5× slower than {@link #SPARSE} on CPU) and a cross
   * check of the sparse graphs.
   */
  DENSE
}
