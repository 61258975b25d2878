package io.saestream.sae.onnx;

import io.saestream.sae.checkpoint.ActivationNormalization;
import io.saestream.sae.checkpoint.Architecture;
import io.saestream.sae.checkpoint.DType;
import io.saestream.sae.checkpoint.FoldProvenance;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;
import io.saestream.sae.checkpoint.Tensor;
import org.jspecify.annotations.Nullable;

/**
 * A checkpoint checked for export (architecture and normalisation servable; {@link SaeCheckpoint}
 * already guarantees the tensors and their shapes), plus the small vectors derived from the weights
 * (decoder row norms, JumpReLU threshold clamped at 0, {@code exp(r_mag)}). Holds references to the
 * checkpoint's tensors, so it must not outlive the checkpoint. Immutable.
 */
final class ExportableSae {

  private final SaeConfig config;
  private final Tensor wEnc;
  private final Tensor wDec;
  private final Tensor bDec;
  private final @Nullable Tensor bEnc;
  private final float @Nullable [] thresholdPositive;
  private final @Nullable Tensor bGate;
  private final @Nullable Tensor bMag;
  private final float @Nullable [] rMagExp;
  private final float[] decoderNorms;
  private final FoldProvenance foldState;

  private ExportableSae(SaeCheckpoint checkpoint) {
    this.config = checkpoint.config();
    Architecture arch = config.architecture();
    if (arch == Architecture.BATCHTOPK) {
      throw new IllegalArgumentException(
          "architecture batchtopk is training-only: convert the checkpoint to its jumprelu"
              + " inference form first (Folding.toInference or Folding.batchTopKToJumpRelu;"
              + " `sae-stream export --fold`), as sae-lens's save_inference_model does");
    }
    if (config.normalizeActivations() == ActivationNormalization.EXPECTED_AVERAGE_ONLY_IN) {
      throw new IllegalArgumentException(
          "normalize_activations expected_average_only_in is a training-time scale that must be"
              + " folded into the weights before serving (Folding.foldActivationScale)");
    }
    int dIn = config.dIn();
    int dSae = config.dSae();
    if (config.normalizeActivations() == ActivationNormalization.LAYER_NORM && dIn < 2) {
      throw new IllegalArgumentException(
          "layer_norm needs d_in >= 2 (unbiased standard deviation), was " + dIn);
    }
    // SaeCheckpoint guarantees every tensor the architecture needs, with the configured shapes.
    this.wEnc = checkpoint.tensor("W_enc");
    this.wDec = checkpoint.tensor("W_dec");
    this.bDec = checkpoint.tensor("b_dec");
    if (arch == Architecture.GATED) {
      this.bEnc = null;
      this.bGate = checkpoint.tensor("b_gate");
      this.bMag = checkpoint.tensor("b_mag");
      float[] r = checkpoint.tensor("r_mag").toFloatArray();
      for (int i = 0; i < r.length; i++) {
        r[i] = (float) Math.exp(r[i]);
      }
      this.rMagExp = r;
    } else {
      this.bEnc = checkpoint.tensor("b_enc");
      this.bGate = null;
      this.bMag = null;
      this.rMagExp = null;
    }
    if (arch == Architecture.JUMPRELU) {
      float[] t = checkpoint.tensor("threshold").toFloatArray();
      for (int i = 0; i < t.length; i++) {
        // relu(h) * [h > t] == h * [h > max(t, 0)]: one comparison instead of relu and mask.
        t[i] = t[i] > 0f ? t[i] : 0f;
      }
      this.thresholdPositive = t;
    } else {
      this.thresholdPositive = null;
    }
    this.decoderNorms = rowNorms(wDec, dSae, dIn);
    FoldProvenance recorded = config.foldProvenance();
    this.foldState =
        !recorded.decoderNormFolded() && allUnit(decoderNorms, wDec.dtype())
            ? recorded.withDecoderNormFolded()
            : recorded;
  }

  /**
   * Checks {@code checkpoint} for export.
   *
   * @throws IllegalArgumentException naming what cannot be served
   */
  static ExportableSae of(SaeCheckpoint checkpoint) {
    return new ExportableSae(checkpoint);
  }

  SaeConfig config() {
    return config;
  }

  Architecture architecture() {
    return config.architecture();
  }

  ActivationNormalization normalization() {
    return config.normalizeActivations();
  }

  int dIn() {
    return config.dIn();
  }

  int dSae() {
    return config.dSae();
  }

  Tensor wEnc() {
    return wEnc;
  }

  Tensor wDec() {
    return wDec;
  }

  Tensor bDec() {
    return bDec;
  }

  /** {@code b_enc}; absent for gated SAEs. */
  Tensor bEnc() {
    return require(bEnc, "b_enc");
  }

  /** {@code max(threshold, 0)}; jumprelu only. */
  float[] thresholdPositive() {
    return require(thresholdPositive, "threshold");
  }

  /** Gated only. */
  Tensor bGate() {
    return require(bGate, "b_gate");
  }

  /** Gated only. */
  Tensor bMag() {
    return require(bMag, "b_mag");
  }

  /** {@code exp(r_mag)}; gated only. */
  float[] rMagExp() {
    return require(rMagExp, "r_mag");
  }

  /** {@code ||W_dec[i, :]||_2}, computed in double and rounded to float32. */
  float[] decoderNorms() {
    return decoderNorms.clone();
  }

  /**
   * Whether the graph multiplies pre-activations by the decoder norms (and divides the values by
   * them before decoding): topk with {@code rescale_acts_by_decoder_norm}, unless every norm is 1
   * within 4 float32 ulps (a folded decoder). There the factors could move a value by at most
   * 2.4e-7 relative, below the rounding of the encoder GEMM itself, and skipping them saves a full
   * pass over {@code [N, d_sae]}.
   */
  boolean rescalesByDecoderNorm() {
    return config.architecture() == Architecture.TOPK
        && config.rescaleActsByDecoderNorm()
        && !allUnit(decoderNorms, DType.F32);
  }

  /**
   * The checkpoint's recorded {@link FoldProvenance}, with {@code decoder_norm_folded} also set
   * when the decoder rows are detected to have unit norm (e.g. saved folded by sae-lens, which
   * records nothing).
   */
  FoldProvenance foldState() {
    return foldState;
  }

  /** K for topk, else {@code requested} or the default, validated against d_sae. */
  int slots(@Nullable Integer requested) {
    if (config.architecture() == Architecture.TOPK) {
      int k = config.topK();
      if (requested != null && requested != k) {
        throw new IllegalArgumentException(
            "maxActive applies to standard, jumprelu and gated SAEs; a topk SAE keeps its k="
                + k
                + ", was asked for "
                + requested);
      }
      return k;
    }
    if (requested == null) {
      return Math.min(config.dSae(), ExportOptions.DEFAULT_MAX_ACTIVE);
    }
    if (requested > config.dSae()) {
      throw new IllegalArgumentException(
          "maxActive must be <= d_sae=" + config.dSae() + ", was " + requested);
    }
    return requested;
  }

  private static <T> T require(@Nullable T value, String name) {
    if (value == null) {
      throw new IllegalStateException("no " + name + " for this architecture");
    }
    return value;
  }

  private static float[] rowNorms(Tensor wDec, int rows, int cols) {
    float[] norms = new float[rows];
    int rowsPerChunk = Math.max(1, (1 << 18) / cols);
    float[] buf = new float[Math.min(rows, rowsPerChunk) * cols];
    for (int r0 = 0; r0 < rows; r0 += rowsPerChunk) {
      int n = Math.min(rowsPerChunk, rows - r0);
      wDec.readFloats((long) r0 * cols, buf, 0, n * cols);
      for (int r = 0; r < n; r++) {
        double s = 0;
        for (int c = 0, o = r * cols; c < cols; c++, o++) {
          s += (double) buf[o] * buf[o];
        }
        norms[r0 + r] = (float) Math.sqrt(s);
      }
    }
    return norms;
  }

  /**
   * Whether every row norm is 1 within 4 units in the last place of the stored dtype (2.4e-7 for
   * F32), the rounding a normalised row shows: the rule {@code Folding.toInference} applies.
   */
  private static boolean allUnit(float[] norms, DType dtype) {
    double tolerance =
        4
            * switch (dtype) {
              case F64 -> 0x1p-53;
              case F32 -> 0x1p-24;
              case F16 -> 0x1p-11;
              case BF16 -> 0x1p-8;
            };
    for (float n : norms) {
      if (!(Math.abs(n - 1.0) <= tolerance)) {
        return false;
      }
    }
    return true;
  }
}
