package io.saestream.sae.onnx;

import io.saestream.sae.checkpoint.ActivationNormalization;
import io.saestream.sae.checkpoint.Architecture;
import io.saestream.sae.checkpoint.FloatTensor;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;
import io.saestream.sae.checkpoint.Tensor;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/** Small seeded random SAEs and activations built in code, shaped like the sae-lens fixtures. */
final class TestSaes {

  /** What to build. */
  record Spec(
      Architecture architecture,
      ActivationNormalization normalization,
      boolean applyBDecToInput,
      boolean rescaleActsByDecoderNorm,
      int dIn,
      int dSae,
      int k) {

    Spec withNormalization(ActivationNormalization n) {
      return new Spec(architecture, n, applyBDecToInput, rescaleActsByDecoderNorm, dIn, dSae, k);
    }

    Spec withApplyBDec(boolean apply) {
      return new Spec(architecture, normalization, apply, rescaleActsByDecoderNorm, dIn, dSae, k);
    }

    @Override
    public String toString() {
      return architecture.cfgName()
          + (architecture == Architecture.TOPK ? (rescaleActsByDecoderNorm ? "+rescale" : "") : "")
          + "/"
          + normalization.cfgName()
          + (applyBDecToInput ? "/apply_b_dec" : "");
    }
  }

  private TestSaes() {}

  static Spec spec(Architecture arch, int dIn, int dSae, int k) {
    return new Spec(
        arch, ActivationNormalization.NONE, true, arch == Architecture.TOPK, dIn, dSae, k);
  }

  static SaeConfig config(Spec s) {
    StringBuilder json = new StringBuilder();
    json.append(
        String.format(
            Locale.ROOT,
            "{\"architecture\": \"%s\", \"d_in\": %d, \"d_sae\": %d, \"dtype\": \"float32\","
                + " \"apply_b_dec_to_input\": %b, \"normalize_activations\": \"%s\","
                + " \"metadata\": {\"model_name\": \"test-model\", \"hook_name\":"
                + " \"blocks.0.hook_resid_post\"}",
            s.architecture().cfgName(),
            s.dIn(),
            s.dSae(),
            s.applyBDecToInput(),
            s.normalization().cfgName()));
    if (s.architecture() == Architecture.TOPK || s.architecture() == Architecture.BATCHTOPK) {
      json.append(
          String.format(
              Locale.ROOT,
              ", \"k\": %d, \"rescale_acts_by_decoder_norm\": %b",
              s.k(),
              s.rescaleActsByDecoderNorm()));
    }
    return SaeConfig.parse(json.append('}').toString());
  }

  /** Random weights: W_dec rows with norms in U(0.3, 3), non-zero biases. */
  static SaeCheckpoint random(Spec s, long seed) {
    return random(s, seed, Map.of());
  }

  /** {@link #random(Spec, long)} plus {@code extra} tensors (e.g. BatchTopK's topk_threshold). */
  static SaeCheckpoint random(Spec s, long seed, Map<String, Tensor> extra) {
    Random r = new Random(seed);
    int dIn = s.dIn();
    int dSae = s.dSae();
    Map<String, Tensor> t = new LinkedHashMap<>();
    float[] wEnc = gaussian(r, dIn * dSae, 1 / Math.sqrt(dIn));
    float[] wDec = new float[dSae * dIn];
    for (int j = 0; j < dSae; j++) {
      double target = 0.3 + 2.7 * r.nextDouble();
      double[] row = new double[dIn];
      double n = 0;
      for (int i = 0; i < dIn; i++) {
        row[i] = r.nextGaussian();
        n += row[i] * row[i];
      }
      n = Math.sqrt(n);
      for (int i = 0; i < dIn; i++) {
        wDec[j * dIn + i] = (float) (row[i] / n * target);
      }
    }
    t.put("W_dec", FloatTensor.of(wDec, dSae, dIn));
    t.put("W_enc", FloatTensor.of(wEnc, dIn, dSae));
    t.put("b_dec", FloatTensor.of(gaussian(r, dIn, 0.5), dIn));
    switch (s.architecture()) {
      case GATED -> {
        t.put("b_gate", FloatTensor.of(gaussian(r, dSae, 0.3), dSae));
        t.put("b_mag", FloatTensor.of(gaussian(r, dSae, 0.3), dSae));
        t.put("r_mag", FloatTensor.of(gaussian(r, dSae, 0.5), dSae));
      }
      case JUMPRELU -> {
        t.put("b_enc", FloatTensor.of(gaussian(r, dSae, 0.3), dSae));
        float[] threshold = new float[dSae];
        for (int j = 0; j < dSae; j++) {
          threshold[j] = (float) (1.2 * r.nextDouble());
        }
        // sae-lens allows thresholds <= 0; relu still zeroes h <= 0 there.
        threshold[1] = 0f;
        threshold[2] = -0.3f;
        t.put("threshold", FloatTensor.of(threshold, dSae));
      }
      default -> t.put("b_enc", FloatTensor.of(gaussian(r, dSae, 0.3), dSae));
    }
    t.putAll(extra);
    return SaeCheckpoint.of(config(s), t);
  }

  /** Gaussian rows with a shared per-feature offset; every 8th row scaled by U(10, 60). */
  static float[][] activations(int n, int dIn, long seed) {
    Random r = new Random(seed);
    float[] offset = gaussian(r, dIn, 1.0);
    float[][] x = new float[n][dIn];
    for (int row = 0; row < n; row++) {
      double scale = row % 8 == 3 ? 10 + 50 * r.nextDouble() : 1;
      for (int i = 0; i < dIn; i++) {
        x[row][i] = (float) ((r.nextGaussian() + offset[i]) * scale);
      }
    }
    return x;
  }

  /** {@code sae} with tensor {@code name} replaced by {@code values} (same shape). */
  static SaeCheckpoint withTensor(SaeCheckpoint sae, String name, float[] values) {
    Map<String, Tensor> t = new LinkedHashMap<>(sae.tensors());
    t.put(name, FloatTensor.of(values, sae.tensor(name).shape()));
    return SaeCheckpoint.of(sae.config(), t);
  }

  static float[] filled(int n, float value) {
    float[] v = new float[n];
    java.util.Arrays.fill(v, value);
    return v;
  }

  static float[] gaussian(Random r, int n, double sd) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextGaussian() * sd);
    }
    return v;
  }
}
