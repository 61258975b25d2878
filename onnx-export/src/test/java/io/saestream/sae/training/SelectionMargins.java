package io.saestream.sae.training;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How far a problem's discrete choices (TopK / BatchTopK cut, ReLU sign of the kept values, aux-k
 * cut among dead latents) are from flipping, each relative to the largest |h| it compares, from a
 * float64 forward in Java. Finite differences are only meaningful when a small perturbation cannot
 * flip any of them.
 */
final class SelectionMargins {

  private SelectionMargins() {}

  /** The smallest relative margin of all discrete choices of {@code p}. */
  static double smallest(SaeProblem p) {
    TrainingStepSpec spec = p.spec();
    double[][] h = p.hiddenPre();
    double min = Double.POSITIVE_INFINITY;
    if (spec.rule() == SparsityRule.TOPK) {
      int k = (int) spec.k();
      for (double[] row : h) {
        double[] sorted = descending(row);
        double scale = maxAbs(row);
        min = Math.min(min, (sorted[k - 1] - sorted[k]) / scale);
        for (int i = 0; i < k; i++) {
          min = Math.min(min, Math.abs(sorted[i]) / scale);
        }
      }
    } else {
      List<Double> all = new ArrayList<>();
      double scale = 0;
      for (double[] row : h) {
        for (double v : row) {
          all.add(Math.max(v, 0));
          scale = Math.max(scale, Math.abs(v));
        }
      }
      double[] sorted = descending(all.stream().mapToDouble(Double::doubleValue).toArray());
      int kept = (int) spec.keptPerBatch(p.batch());
      min = Math.min(min, (sorted[kept - 1] - sorted[kept]) / scale);
      min = Math.min(min, sorted[kept - 1] / scale);
    }
    int dead = p.deadCount();
    int auxK = Math.min(spec.auxK(), dead);
    if (dead > auxK) {
      for (double[] row : h) {
        double[] deadValues = new double[dead];
        int n = 0;
        for (int j = 0; j < row.length; j++) {
          if (p.dead()[j]) {
            deadValues[n++] = row[j];
          }
        }
        double[] sorted = descending(deadValues);
        min = Math.min(min, (sorted[auxK - 1] - sorted[auxK]) / maxAbs(row));
      }
    }
    return min;
  }

  private static double[] descending(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    for (int i = 0; i < s.length / 2; i++) {
      double t = s[i];
      s[i] = s[s.length - 1 - i];
      s[s.length - 1 - i] = t;
    }
    return s;
  }

  private static double maxAbs(double[] v) {
    double m = 0;
    for (double x : v) {
      m = Math.max(m, Math.abs(x));
    }
    return m;
  }
}
