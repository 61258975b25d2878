package io.saestream.sae.onnx;

import io.saestream.sae.checkpoint.ActivationNormalization;
import io.saestream.sae.checkpoint.Architecture;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The sae-lens 6.18 inference math in plain loops with double accumulation (see the fixture
 * README), plus the exporter's K-slot contract: the K largest activations, ties to the lower latent
 * index, unused slots (value 0) with index −1. It is the oracle of the parity tests, so it is
 * written for obviousness, not speed.
 */
final class SaeLensReference {

  /** One token's expected outputs; test-only, compared element by element. */
  @SuppressWarnings("ArrayRecordComponent")
  record Row(
      long[] indices,
      float[] values,
      double[] saeOut,
      double[] denseActs,
      long l0,
      long dropped,
      double sse,
      double relativeError,
      double cosine,
      double decisionMargin) {}

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
  private final double[] decoderNorms;

  SaeLensReference(SaeCheckpoint ckpt) {
    this.cfg = ckpt.config();
    this.dIn = cfg.dIn();
    this.dSae = cfg.dSae();
    this.wEnc = ckpt.tensor("W_enc").toFloatArray();
    this.wDec = ckpt.tensor("W_dec").toFloatArray();
    this.bDec = ckpt.tensor("b_dec").toFloatArray();
    this.bEnc = ckpt.has("b_enc") ? ckpt.tensor("b_enc").toFloatArray() : new float[0];
    this.threshold = ckpt.has("threshold") ? ckpt.tensor("threshold").toFloatArray() : new float[0];
    this.bGate = ckpt.has("b_gate") ? ckpt.tensor("b_gate").toFloatArray() : new float[0];
    this.bMag = ckpt.has("b_mag") ? ckpt.tensor("b_mag").toFloatArray() : new float[0];
    this.rMag = ckpt.has("r_mag") ? ckpt.tensor("r_mag").toFloatArray() : new float[0];
    this.decoderNorms = new double[dSae];
    for (int j = 0; j < dSae; j++) {
      double s = 0;
      for (int i = 0; i < dIn; i++) {
        double w = wDec[j * dIn + i];
        s += w * w;
      }
      decoderNorms[j] = Math.sqrt(s);
    }
  }

  /** Runs one token row through the SAE with K slots. */
  Row analyze(float[] xRow, int slots) {
    double[] x = new double[dIn];
    for (int i = 0; i < dIn; i++) {
      x[i] = xRow[i];
    }
    double[] in = x.clone();
    double scale = 1;
    double shift = 0;
    if (cfg.normalizeActivations() == ActivationNormalization.CONSTANT_NORM_RESCALE) {
      double norm = Math.max(Math.sqrt(dot(x, x)), SaeGraphFactory.MIN_NORM_FOR_RESCALE);
      double c = Math.sqrt(dIn) / norm;
      for (int i = 0; i < dIn; i++) {
        in[i] = x[i] * c;
      }
      scale = 1 / c;
    } else if (cfg.normalizeActivations() == ActivationNormalization.LAYER_NORM) {
      double mu = Arrays.stream(x).sum() / dIn;
      double ss = 0;
      for (double v : x) {
        ss += (v - mu) * (v - mu);
      }
      double sd = Math.sqrt(ss / (dIn - 1));
      for (int i = 0; i < dIn; i++) {
        in[i] = (x[i] - mu) / (sd + 1e-5);
      }
      scale = sd;
      shift = mu;
    }
    if (cfg.applyBDecToInput()) {
      for (int i = 0; i < dIn; i++) {
        in[i] -= bDec[i];
      }
    }
    double[] proj = new double[dSae];
    for (int j = 0; j < dSae; j++) {
      double s = 0;
      for (int i = 0; i < dIn; i++) {
        s += in[i] * wEnc[i * dSae + j];
      }
      proj[j] = s;
    }
    double[] acts = new double[dSae];
    double margin = Double.POSITIVE_INFINITY;
    Architecture arch = cfg.architecture();
    boolean topk = arch == Architecture.TOPK;
    double[] ranking = acts;
    switch (arch) {
      case STANDARD -> {
        for (int j = 0; j < dSae; j++) {
          acts[j] = Math.max(proj[j] + bEnc[j], 0);
          margin = Math.min(margin, Math.abs(proj[j] + bEnc[j]));
        }
      }
      case JUMPRELU -> {
        for (int j = 0; j < dSae; j++) {
          double h = proj[j] + bEnc[j];
          acts[j] = h > threshold[j] ? Math.max(h, 0) : 0;
          margin = Math.min(margin, Math.abs(h - Math.max(threshold[j], 0)));
        }
      }
      case GATED -> {
        for (int j = 0; j < dSae; j++) {
          double gate = proj[j] + bGate[j];
          double magPre = proj[j] * Math.exp(rMag[j]) + bMag[j];
          acts[j] = gate > 0 ? Math.max(magPre, 0) : 0;
          margin = Math.min(margin, Math.abs(gate));
          if (gate > 0) {
            margin = Math.min(margin, Math.abs(magPre));
          }
        }
      }
      case TOPK -> {
        double[] h = new double[dSae];
        for (int j = 0; j < dSae; j++) {
          h[j] = proj[j] + bEnc[j];
          if (cfg.rescaleActsByDecoderNorm()) {
            h[j] *= decoderNorms[j];
          }
        }
        int k = cfg.topK();
        Integer[] order = sortedDescending(h);
        for (int r = 0; r < k; r++) {
          acts[order[r]] = Math.max(h[order[r]], 0);
          margin = Math.min(margin, Math.abs(h[order[r]]));
        }
        if (k < dSae) {
          margin = Math.min(margin, h[order[k - 1]] - h[order[k]]);
        }
        ranking = h;
      }
      case BATCHTOPK -> throw new IllegalArgumentException("not an inference architecture");
    }
    // The K slots: largest activations first, lower index first among equals.
    Integer[] order = sortedDescending(topk ? ranking : acts);
    long l0 = Arrays.stream(acts).filter(v -> v > 0).count();
    long[] indices = new long[slots];
    float[] values = new float[slots];
    double[] kept = new double[dSae];
    int used = 0;
    for (int r = 0; r < slots; r++) {
      int j = order[r];
      double v = acts[j];
      if (v > 0) {
        indices[r] = j;
        values[r] = (float) v;
        kept[j] = v;
        used++;
      } else {
        indices[r] = -1;
      }
    }
    if (!topk && slots < dSae && l0 > slots) {
      margin = Math.min(margin, acts[order[slots - 1]] - acts[order[slots]]);
    }
    double[] out = new double[dIn];
    for (int j = 0; j < dSae; j++) {
      if (kept[j] == 0) {
        continue;
      }
      double f = kept[j];
      if (topk && cfg.rescaleActsByDecoderNorm()) {
        f /= decoderNorms[j];
      }
      for (int i = 0; i < dIn; i++) {
        out[i] += f * wDec[j * dIn + i];
      }
    }
    for (int i = 0; i < dIn; i++) {
      out[i] = (out[i] + bDec[i]) * scale + shift;
    }
    double sse = 0;
    for (int i = 0; i < dIn; i++) {
      sse += (out[i] - x[i]) * (out[i] - x[i]);
    }
    double xx = dot(x, x);
    double rel = sse == 0 ? 0 : sse / xx;
    double cos =
        dot(x, out)
            / (Math.max(Math.sqrt(xx), SaeGraphFactory.COSINE_EPS)
                * Math.max(Math.sqrt(dot(out, out)), SaeGraphFactory.COSINE_EPS));
    double maxAbs = 0;
    for (double v : proj) {
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
    return new Row(
        indices, values, out, acts, l0, l0 - used, sse, rel, cos, margin / Math.max(maxAbs, 1e-30));
  }

  /** Runs every row. */
  List<Row> analyze(float[][] x, int slots) {
    List<Row> rows = new ArrayList<>();
    for (float[] r : x) {
      rows.add(analyze(r, slots));
    }
    return rows;
  }

  private static Integer[] sortedDescending(double[] v) {
    Integer[] order = new Integer[v.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -v[i]).thenComparingInt(i -> i));
    return order;
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }
}
