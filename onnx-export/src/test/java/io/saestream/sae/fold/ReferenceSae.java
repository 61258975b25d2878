package io.saestream.sae.fold;

import io.saestream.sae.checkpoint.ActivationNormalization;
import io.saestream.sae.checkpoint.Architecture;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;

/**
 * A plain-loop sae-lens encoder/decoder (float64 accumulation over the float32 weights) for
 * checking that folds preserve what an SAE computes. Only {@code normalize_activations} none (or an
 * unfolded {@code expected_average_only_in}, which sae-lens also ignores at run time).
 */
final class ReferenceSae {

  private final SaeConfig cfg;
  private final int dIn;
  private final int dSae;
  private final float[] wEnc;
  private final float[] wDec;
  private final float[] bDec;
  private final float[] bEnc;
  private final float[] threshold;
  private final float[] bGate;
  private final float[] bMag;
  private final float[] rMag;

  ReferenceSae(SaeCheckpoint c) {
    this.cfg = c.config();
    if (cfg.normalizeActivations() != ActivationNormalization.NONE
        && cfg.normalizeActivations() != ActivationNormalization.EXPECTED_AVERAGE_ONLY_IN) {
      throw new IllegalArgumentException("reference supports no run-time normalisation");
    }
    this.dIn = cfg.dIn();
    this.dSae = cfg.dSae();
    this.wEnc = c.tensor("W_enc").toFloatArray();
    this.wDec = c.tensor("W_dec").toFloatArray();
    this.bDec = c.tensor("b_dec").toFloatArray();
    this.bEnc = c.has("b_enc") ? c.tensor("b_enc").toFloatArray() : new float[dSae];
    this.threshold = c.has("threshold") ? c.tensor("threshold").toFloatArray() : new float[dSae];
    this.bGate = c.has("b_gate") ? c.tensor("b_gate").toFloatArray() : new float[dSae];
    this.bMag = c.has("b_mag") ? c.tensor("b_mag").toFloatArray() : new float[dSae];
    this.rMag = c.has("r_mag") ? c.tensor("r_mag").toFloatArray() : new float[dSae];
  }

  /** sae_in @ W + bias for latent j, where W_enc's column j is multiplied by {@code colScale}. */
  private double linear(float[] x, int row, double scaleX, int j, double colScale, double bias) {
    double h = bias;
    for (int i = 0; i < dIn; i++) {
      double in = x[row * dIn + i] * scaleX - (cfg.applyBDecToInput() ? bDec[i] : 0);
      h += in * wEnc[i * dSae + j] * colScale;
    }
    return h;
  }

  /** Feature activations of row {@code row} of {@code x} multiplied by {@code scaleX}. */
  double[] encode(float[] x, int row, double scaleX) {
    double[] f = new double[dSae];
    Architecture a = cfg.architecture();
    for (int j = 0; j < dSae; j++) {
      switch (a) {
        case STANDARD -> f[j] = Math.max(0, linear(x, row, scaleX, j, 1, bEnc[j]));
        case JUMPRELU -> {
          double h = linear(x, row, scaleX, j, 1, bEnc[j]);
          f[j] = h > threshold[j] ? Math.max(0, h) : 0;
        }
        case GATED -> {
          boolean gate = linear(x, row, scaleX, j, 1, bGate[j]) > 0;
          double mag = Math.max(0, linear(x, row, scaleX, j, Math.exp(rMag[j]), bMag[j]));
          f[j] = gate ? mag : 0;
        }
        case TOPK, BATCHTOPK -> throw new IllegalArgumentException("reference has no " + a);
      }
    }
    return f;
  }

  /** Reconstruction of one row from its feature activations. */
  double[] decode(double[] f) {
    double[] out = new double[dIn];
    for (int i = 0; i < dIn; i++) {
      double v = bDec[i];
      for (int j = 0; j < dSae; j++) {
        v += f[j] * wDec[j * dIn + i];
      }
      out[i] = v;
    }
    return out;
  }

  /** Mean number of active latents per row of {@code x} (times {@code scaleX}). */
  double l0(float[] x, double scaleX) {
    int rows = x.length / dIn;
    long active = 0;
    for (int r = 0; r < rows; r++) {
      for (double v : encode(x, r, scaleX)) {
        if (v != 0) {
          active++;
        }
      }
    }
    return (double) active / rows;
  }

  int rows(float[] x) {
    return x.length / dIn;
  }
}
