package io.saestream.sae.training;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;

/**
 * A plain float64 Java implementation of the training forward pass (sae-lens's
 * training_forward_pass for TopK/BatchTopK with decoder-norm rescaling), written densely and
 * independently of the graph. It can hold the aux-k residual fixed: sae-lens detaches it, so the
 * gradient it trains with is the derivative of the loss at a fixed residual, and that is what a
 * finite-difference check must differentiate. Stateless.
 */
final class ReferenceForward {

  /** The two loss terms and the residual {@code x − x̂} they were computed with. */
  static final class Losses {
    private final double mse;
    private final double aux;
    private final double[] residual;

    Losses(double mse, double aux, double[] residual) {
      this.mse = mse;
      this.aux = aux;
      this.residual = residual;
    }

    double mse() {
      return mse;
    }

    double aux() {
      return aux;
    }

    double total() {
      return mse + aux;
    }

    /** {@code x − x̂ [B·d_in]}; a copy. */
    double[] residual() {
      return residual.clone();
    }
  }

  private ReferenceForward() {}

  /** The losses of {@code p}, the aux term against its own residual. */
  static Losses losses(SaeProblem p) {
    return losses(p, null);
  }

  /** The losses of {@code p}, the aux term against {@code fixedResidual} when given. */
  static Losses losses(SaeProblem p, double @Nullable [] fixedResidual) {
    TrainingStepSpec spec = p.spec();
    int dIn = spec.dIn();
    int dSae = spec.dSae();
    int batch = p.batch();
    double[] wDec = p.parameter(SaeParameter.W_DEC);
    double[] bDec = p.parameter(SaeParameter.B_DEC);
    double[] x = p.x();
    double[][] h = p.hiddenPre();
    double[] norms = p.decoderNorms();

    double[][] acts = new double[batch][dSae];
    if (spec.rule() == SparsityRule.TOPK) {
      for (int b = 0; b < batch; b++) {
        for (int j : largest(h[b], allLatents(dSae), (int) spec.k())) {
          acts[b][j] = Math.max(h[b][j], 0);
        }
      }
    } else {
      double[] flat = new double[batch * dSae];
      for (int i = 0; i < flat.length; i++) {
        flat[i] = Math.max(h[i / dSae][i % dSae], 0);
      }
      int kept = (int) spec.keptPerBatch(batch);
      for (int i : largest(flat, IntStream.range(0, flat.length).toArray(), kept)) {
        acts[i / dSae][i % dSae] = flat[i];
      }
    }
    double[][] out = decode(acts, wDec, bDec, norms, dIn);
    double mse = 0;
    double[] residual = new double[batch * dIn];
    for (int b = 0; b < batch; b++) {
      for (int d = 0; d < dIn; d++) {
        double e = out[b][d] - x[b * dIn + d];
        mse += e * e;
        residual[b * dIn + d] = -e;
      }
    }
    mse /= batch;

    double[] r = fixedResidual == null ? residual : fixedResidual;
    int[] dead = IntStream.range(0, dSae).filter(j -> p.dead()[j]).toArray();
    double aux = 0;
    if (dead.length > 0) {
      double scale = Math.min((double) dead.length / spec.auxK(), 1.0);
      int auxK = Math.min(spec.auxK(), dead.length);
      double[][] auxActs = new double[batch][dSae];
      for (int b = 0; b < batch; b++) {
        for (int j : largest(h[b], dead, auxK)) {
          auxActs[b][j] = h[b][j];
        }
      }
      double[][] recons = decode(auxActs, wDec, bDec, norms, dIn);
      for (int b = 0; b < batch; b++) {
        for (int d = 0; d < dIn; d++) {
          double e = recons[b][d] - r[b * dIn + d];
          aux += e * e;
        }
      }
      aux = spec.auxLossCoefficient() * scale * aux / batch;
    }
    return new Losses(mse, aux, residual);
  }

  private static double[][] decode(
      double[][] acts, double[] wDec, double[] bDec, double[] norms, int dIn) {
    double[][] out = new double[acts.length][dIn];
    for (int b = 0; b < acts.length; b++) {
      for (int d = 0; d < dIn; d++) {
        out[b][d] = bDec[d];
      }
      for (int j = 0; j < norms.length; j++) {
        if (acts[b][j] != 0) {
          double c = acts[b][j] / norms[j];
          for (int d = 0; d < dIn; d++) {
            out[b][d] += c * wDec[j * dIn + d];
          }
        }
      }
    }
    return out;
  }

  private static int[] allLatents(int dSae) {
    return IntStream.range(0, dSae).toArray();
  }

  /** The {@code n} candidates with the largest {@code values}. */
  private static int[] largest(double[] values, int[] candidates, int n) {
    Integer[] order = Arrays.stream(candidates).boxed().toArray(Integer[]::new);
    Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -values[i]));
    return Arrays.stream(order).limit(n).mapToInt(Integer::intValue).toArray();
  }
}
