package io.saestream.sae.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

/** The analyze graph's outputs as Java arrays, with comparisons against the reference. */
@SuppressWarnings("ArrayRecordComponent") // a test-only holder, compared element by element
record AnalyzeOutputs(
    long[][] indices,
    float[][] values,
    float[][] saeOut,
    float[] sse,
    float[] relativeError,
    float[] cosine,
    long[] l0,
    long[] dropped) {

  static AnalyzeOutputs of(Map<String, Object> out) {
    assertThat(out)
        .containsOnlyKeys(
            "indices", "values", "sae_out", "sse", "relative_error", "cosine", "l0", "dropped");
    return new AnalyzeOutputs(
        OrtModel.output(out, "indices", long[][].class),
        OrtModel.output(out, "values", float[][].class),
        OrtModel.output(out, "sae_out", float[][].class),
        OrtModel.output(out, "sse", float[].class),
        OrtModel.output(out, "relative_error", float[].class),
        OrtModel.output(out, "cosine", float[].class),
        OrtModel.output(out, "l0", long[].class),
        OrtModel.output(out, "dropped", long[].class));
  }

  /**
   * Asserts agreement with the reference on every row whose decisions (TopK cut, ReLU, threshold,
   * gate) are clear by more than 1e-5 of the row's largest pre-activation; at most 1/8 of the rows
   * may be ambiguous. Float32 against double: 1e-5 relative (max|a−b| / max|ref| over the batch)
   * for values and sae_out, 1e-5 absolute for relative_error and cosine (both are normalised), sse
   * within 1e-5·‖x‖².
   */
  void assertMatches(List<SaeLensReference.Row> ref, float[][] x, String what) {
    assertMatches(ref, x, what, 1e-5);
  }

  /**
   * As {@link #assertMatches(List, float[][], String)}, skipping rows whose decision margin is
   * below {@code minMargin}; 0 compares every row (for SAEs built with exact ties).
   */
  void assertMatches(List<SaeLensReference.Row> ref, float[][] x, String what, double minMargin) {
    int ambiguous = 0;
    double maxOut = 0;
    double maxVal = 0;
    for (SaeLensReference.Row r : ref) {
      for (double v : r.saeOut()) {
        maxOut = Math.max(maxOut, Math.abs(v));
      }
      for (float v : r.values()) {
        maxVal = Math.max(maxVal, Math.abs(v));
      }
    }
    for (int row = 0; row < ref.size(); row++) {
      SaeLensReference.Row r = ref.get(row);
      if (r.decisionMargin() < minMargin) {
        ambiguous++;
        continue;
      }
      String at = what + " row " + row;
      assertThat(sorted(indices[row]))
          .as(at + " active latents")
          .containsExactly(sorted(r.indices()));
      for (int s = 0; s < indices[row].length; s++) {
        long idx = indices[row][s];
        if (idx < 0) {
          assertThat(values[row][s]).as(at + " unused slot value").isZero();
          continue;
        }
        float expected = valueAt(r, idx);
        assertThat(Math.abs(values[row][s] - expected) / maxVal)
            .as(at + " value of latent " + idx)
            .isLessThanOrEqualTo(1e-5);
      }
      assertThat(l0[row]).as(at + " l0").isEqualTo(r.l0());
      assertThat(dropped[row]).as(at + " dropped").isEqualTo(r.dropped());
      double xx = 0;
      for (float v : x[row]) {
        xx += (double) v * v;
      }
      for (int i = 0; i < saeOut[row].length; i++) {
        assertThat(Math.abs(saeOut[row][i] - r.saeOut()[i]) / maxOut)
            .as(at + " sae_out[" + i + "]")
            .isLessThanOrEqualTo(1e-5);
      }
      // sse inherits the reconstruction's rounding relative to ‖x‖² and to itself; below float32's
      // smallest normal it may underflow to 0.
      assertThat(Math.abs(sse[row] - r.sse()))
          .as(at + " sse")
          .isLessThanOrEqualTo(1e-5 * (xx + r.sse()) + Float.MIN_NORMAL);
      if (Double.isInfinite(r.relativeError())) {
        assertThat(relativeError[row]).as(at + " relative_error").isInfinite();
      } else {
        assertThat(Math.abs(relativeError[row] - r.relativeError()))
            .as(at + " relative_error")
            .isLessThanOrEqualTo(1e-5 * (1 + r.relativeError()));
      }
      assertThat(Math.abs(cosine[row] - r.cosine())).as(at + " cosine").isLessThanOrEqualTo(1e-5);
    }
    assertThat(ambiguous)
        .as(what + " rows too close to a decision boundary")
        .isLessThanOrEqualTo(ref.size() / 8);
  }

  private static float valueAt(SaeLensReference.Row r, long idx) {
    for (int s = 0; s < r.indices().length; s++) {
      if (r.indices()[s] == idx) {
        return r.values()[s];
      }
    }
    throw new AssertionError("latent " + idx + " is not active in the reference");
  }

  static long[] sorted(long[] v) {
    return java.util.Arrays.stream(v).sorted().toArray();
  }
}
