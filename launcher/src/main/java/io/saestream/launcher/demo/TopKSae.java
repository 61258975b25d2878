package io.saestream.launcher.demo;

import io.saestream.sae.checkpoint.ActivationNormalization;
import io.saestream.sae.checkpoint.Architecture;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;
import io.saestream.sae.checkpoint.Tensor;
import io.saestream.sae.fold.Folding;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The forward pass of a TopK SAE in plain Java, on its sae-lens inference form (decoder norms
 * folded, as the streams app serves it): {@code pre = (x − b_dec)·W_enc + b_enc}, the k largest
 * pre-activations through ReLU, {@code x̂ = Σ a_j W_dec[j] + b_dec}. The demo runs its calibration
 * traffic through every served version with it to derive the alert rules; nothing here is on the
 * serving path, so clarity wins over speed.
 *
 * <p>Holds copies of the weights (the checkpoint is closed after loading). Immutable and
 * thread-safe.
 */
final class TopKSae {

  private final int dIn;
  private final int dSae;
  private final int k;
  private final boolean subtractDecoderBias;
  private final float[] wEncT; // [d_sae, d_in]: row j is latent j's encoder direction
  private final float[] bEnc;
  private final float[] wDec; // [d_sae, d_in]
  private final float[] bDec;

  private TopKSae(SaeCheckpoint inference) {
    SaeConfig cfg = inference.config();
    if (cfg.architecture() != Architecture.TOPK) {
      throw new IllegalArgumentException(
          "the demo calibrates its alert rules on topk SAEs, this one is "
              + cfg.architecture().cfgName());
    }
    if (cfg.normalizeActivations() != ActivationNormalization.NONE) {
      throw new IllegalArgumentException(
          "the demo calibrates SAEs without input normalization, this one has "
              + cfg.normalizeActivations());
    }
    this.dIn = cfg.dIn();
    this.dSae = cfg.dSae();
    this.k = cfg.topK();
    this.subtractDecoderBias = cfg.applyBDecToInput();
    float[] wEnc = read(inference.tensor("W_enc"), dIn * dSae);
    this.wEncT = new float[dSae * dIn];
    for (int i = 0; i < dIn; i++) {
      for (int j = 0; j < dSae; j++) {
        wEncT[j * dIn + i] = wEnc[i * dSae + j];
      }
    }
    this.bEnc = read(inference.tensor("b_enc"), dSae);
    this.wDec = read(inference.tensor("W_dec"), dSae * dIn);
    this.bDec = read(inference.tensor("b_dec"), dIn);
  }

  /**
   * Loads the sae-lens directory {@code dir} and folds it to its inference form.
   *
   * @throws IllegalArgumentException when it is not a TopK SAE without input normalization
   */
  static TopKSae load(Path dir) {
    try (SaeCheckpoint checkpoint = SaeCheckpoint.open(dir)) {
      return of(checkpoint);
    }
  }

  /** The forward pass of {@code checkpoint} (copied; the checkpoint may be closed afterwards). */
  static TopKSae of(SaeCheckpoint checkpoint) {
    return new TopKSae(Folding.toInference(checkpoint));
  }

  private static float[] read(Tensor t, int expected) {
    if (t.numel() != expected) {
      throw new IllegalArgumentException(
          "tensor has " + t.numel() + " elements, expected " + expected);
    }
    float[] out = new float[expected];
    t.readFloats(0, out, 0, expected);
    return out;
  }

  int dIn() {
    return dIn;
  }

  int dSae() {
    return dSae;
  }

  /**
   * Writes the latent activations of token {@code row} of {@code x} ({@code [tokens, d_in]}) into
   * {@code out} ({@code d_sae}, zero outside the top k).
   */
  void encode(float[] x, int row, float[] out) {
    if (out.length != dSae) {
      throw new IllegalArgumentException("out must have d_sae = " + dSae + " entries");
    }
    int base = row * dIn;
    double[] centered = new double[dIn];
    for (int i = 0; i < dIn; i++) {
      centered[i] = x[base + i] - (subtractDecoderBias ? bDec[i] : 0f);
    }
    float[] pre = new float[dSae];
    for (int j = 0; j < dSae; j++) {
      double s = bEnc[j];
      int w = j * dIn;
      for (int i = 0; i < dIn; i++) {
        s += centered[i] * wEncT[w + i];
      }
      pre[j] = (float) s;
    }
    // The k-th largest pre-activation; ties at the boundary keep the lower indices, like torch.topk
    // does for equal values in practice (ties between float sums are measure-zero here anyway).
    float[] sorted = pre.clone();
    Arrays.sort(sorted);
    float kth = sorted[dSae - k];
    int kept = 0;
    Arrays.fill(out, 0f);
    for (int j = 0; j < dSae && kept < k; j++) {
      if (pre[j] > kth) {
        out[j] = Math.max(0f, pre[j]);
        kept++;
      }
    }
    for (int j = 0; j < dSae && kept < k; j++) {
      if (pre[j] == kth) {
        out[j] = Math.max(0f, pre[j]);
        kept++;
      }
    }
  }

  /**
   * Encodes token {@code row} of {@code x} into {@code acts} (as {@link #encode}) and returns its
   * squared reconstruction error {@code ‖x − x̂‖²}.
   */
  double squaredError(float[] x, int row, float[] acts) {
    encode(x, row, acts);
    int base = row * dIn;
    double[] reconstruction = new double[dIn];
    for (int i = 0; i < dIn; i++) {
      reconstruction[i] = bDec[i];
    }
    for (int j = 0; j < dSae; j++) {
      float a = acts[j];
      if (a != 0f) {
        int w = j * dIn;
        for (int i = 0; i < dIn; i++) {
          reconstruction[i] += a * wDec[w + i];
        }
      }
    }
    double sse = 0;
    for (int i = 0; i < dIn; i++) {
      double d = x[base + i] - reconstruction[i];
      sse += d * d;
    }
    return sse;
  }
}
