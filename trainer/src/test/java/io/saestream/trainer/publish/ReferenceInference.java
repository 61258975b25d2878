package io.saestream.trainer.publish;

import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.trainer.training.TrainerSnapshot;

/** Float64 reference forward passes of sae-lens SAEs, for parity tests. */
final class ReferenceInference {

  private ReferenceInference() {}

  /** {@code (x − b_dec)·W_enc + b_enc} per row. */
  private static double[] pre(
      float[] wEnc, float[] bEnc, float[] bDec, float[] x, int row, int dIn, int dSae) {
    double[] h = new double[dSae];
    for (int j = 0; j < dSae; j++) {
      h[j] = bEnc[j];
    }
    for (int d = 0; d < dIn; d++) {
      double v = x[row * dIn + d] - (double) bDec[d];
      for (int j = 0; j < dSae; j++) {
        h[j] += v * wEnc[d * dSae + j];
      }
    }
    return h;
  }

  private static double[] norms(float[] wDec, int dIn, int dSae) {
    double[] n = new double[dSae];
    for (int j = 0; j < dSae; j++) {
      double s = 0;
      for (int d = 0; d < dIn; d++) {
        s += (double) wDec[j * dIn + d] * wDec[j * dIn + d];
      }
      n[j] = Math.sqrt(s);
    }
    return n;
  }

  /** sae-lens TopK inference (rescale by decoder norm) of a loaded checkpoint. */
  static double[] topK(SaeCheckpoint c, float[] x, int tokens) {
    int dIn = c.config().dIn();
    int dSae = c.config().dSae();
    int k = c.config().topK();
    float[] wEnc = c.tensor("W_enc").toFloatArray();
    float[] bEnc = c.tensor("b_enc").toFloatArray();
    float[] wDec = c.tensor("W_dec").toFloatArray();
    float[] bDec = c.tensor("b_dec").toFloatArray();
    double[] n = norms(wDec, dIn, dSae);
    boolean rescale = c.config().rescaleActsByDecoderNorm();
    double[] out = new double[tokens * dIn];
    for (int t = 0; t < tokens; t++) {
      double[] h = pre(wEnc, bEnc, bDec, x, t, dIn, dSae);
      if (rescale) {
        for (int j = 0; j < dSae; j++) {
          h[j] *= n[j];
        }
      }
      Integer[] order = new Integer[dSae];
      for (int j = 0; j < dSae; j++) {
        order[j] = j;
      }
      java.util.Arrays.sort(order, (a, b) -> Double.compare(h[b], h[a]));
      for (int d = 0; d < dIn; d++) {
        out[t * dIn + d] = bDec[d];
      }
      for (int r = 0; r < k; r++) {
        int j = order[r];
        double f = Math.max(0, h[j]);
        if (rescale) {
          f /= n[j];
        }
        for (int d = 0; d < dIn; d++) {
          out[t * dIn + d] += f * wDec[j * dIn + d];
        }
      }
    }
    return out;
  }

  /**
   * Mean firing latents of a JumpReLU checkpoint with its thresholds multiplied by {@code factor}.
   */
  static double jumpReluL0(SaeCheckpoint c, float[] x, int tokens, double factor) {
    int dIn = c.config().dIn();
    int dSae = c.config().dSae();
    float[] wEnc = c.tensor("W_enc").toFloatArray();
    float[] bEnc = c.tensor("b_enc").toFloatArray();
    float[] bDec = c.tensor("b_dec").toFloatArray();
    float[] theta = c.tensor("threshold").toFloatArray();
    long fired = 0;
    for (int t = 0; t < tokens; t++) {
      double[] h = pre(wEnc, bEnc, bDec, x, t, dIn, dSae);
      for (int j = 0; j < dSae; j++) {
        if (h[j] > theta[j] * factor && h[j] > 0) {
          fired++;
        }
      }
    }
    return (double) fired / tokens;
  }

  /**
   * Mean latents per token whose training-space activation {@code h·n} (on {@code s·x}) exceeds the
   * BatchTopK threshold: what the trained SAE fires with its learned threshold.
   */
  static double trainingThresholdL0(TrainerSnapshot s, float[] x, int tokens) {
    int dIn = s.settings().dIn();
    int dSae = s.settings().dSae();
    float scale = (float) s.activationScale();
    float[] scaled = new float[tokens * dIn];
    for (int i = 0; i < scaled.length; i++) {
      scaled[i] = x[i] * scale;
    }
    double[] n = norms(s.wDec(), dIn, dSae);
    long fired = 0;
    for (int t = 0; t < tokens; t++) {
      double[] h = pre(s.wEnc(), s.bEnc(), s.bDec(), scaled, t, dIn, dSae);
      for (int j = 0; j < dSae; j++) {
        if (h[j] * n[j] > s.threshold() && h[j] > 0) {
          fired++;
        }
      }
    }
    return (double) fired / tokens;
  }
}
