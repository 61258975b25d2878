package io.saestream.sae.training;

import io.saestream.sae.checkpoint.Fixtures;
import java.util.Random;

/**
 * One training-step input held in double precision: the batch, the four parameters and the dead
 * mask, row-major. Immutable by convention (arrays are shared, never mutated after construction;
 * {@link #with} copies).
 */
final class SaeProblem {

  private final TrainingStepSpec spec;
  private final int batch;
  private final double[] x;
  private final double[] wEnc;
  private final double[] bEnc;
  private final double[] wDec;
  private final double[] bDec;
  private final boolean[] dead;

  SaeProblem(
      TrainingStepSpec spec,
      int batch,
      double[] x,
      double[] wEnc,
      double[] bEnc,
      double[] wDec,
      double[] bDec,
      boolean[] dead) {
    this.spec = spec;
    this.batch = batch;
    this.x = x;
    this.wEnc = wEnc;
    this.bEnc = bEnc;
    this.wDec = wDec;
    this.bDec = bDec;
    this.dead = dead;
    check("x", x, (long) batch * spec.dIn());
    for (SaeParameter p : SaeParameter.values()) {
      check(p.tensorName(), parameter(p), p.elementCount(spec));
    }
    check("dead", dead.length, spec.dSae());
  }

  /** The initial state and batch of a sae-lens train_step fixture. */
  static SaeProblem fromFixture(TrainingStepSpec spec, Fixtures.Expected e) {
    double[] mask = doubles(e.get("dead_neuron_mask"));
    boolean[] dead = new boolean[mask.length];
    for (int i = 0; i < mask.length; i++) {
      dead[i] = mask[i] > 0.5;
    }
    double[] x = doubles(e.get("x"));
    return new SaeProblem(
        spec,
        x.length / spec.dIn(),
        x,
        doubles(e.get("W_enc")),
        doubles(e.get("b_enc")),
        doubles(e.get("W_dec")),
        doubles(e.get("b_dec")),
        dead);
  }

  /**
   * A random problem: Gaussian x with a per-feature offset, Gaussian encoder and biases, decoder
   * rows with norms in [0.5, 2], and each latent dead with probability {@code deadFraction}.
   */
  static SaeProblem random(TrainingStepSpec spec, int batch, double deadFraction, long seed) {
    Random r = new Random(seed);
    int dIn = spec.dIn();
    int dSae = spec.dSae();
    double[] offset = gaussian(r, dIn, 0.5);
    double[] x = new double[batch * dIn];
    for (int i = 0; i < x.length; i++) {
      x[i] = offset[i % dIn] + r.nextGaussian();
    }
    double[] wDec = gaussian(r, dSae * dIn, 1);
    for (int j = 0; j < dSae; j++) {
      double n = 0;
      for (int d = 0; d < dIn; d++) {
        n += wDec[j * dIn + d] * wDec[j * dIn + d];
      }
      double target = 0.5 + 1.5 * r.nextDouble();
      for (int d = 0; d < dIn; d++) {
        wDec[j * dIn + d] *= target / Math.sqrt(n);
      }
    }
    boolean[] dead = new boolean[dSae];
    for (int j = 0; j < dSae; j++) {
      dead[j] = r.nextDouble() < deadFraction;
    }
    return new SaeProblem(
        spec,
        batch,
        x,
        gaussian(r, dIn * dSae, 1 / Math.sqrt(dIn)),
        gaussian(r, dSae, 0.1),
        wDec,
        gaussian(r, dIn, 0.2),
        dead);
  }

  TrainingStepSpec spec() {
    return spec;
  }

  int batch() {
    return batch;
  }

  int dIn() {
    return spec.dIn();
  }

  double[] x() {
    return x;
  }

  boolean[] dead() {
    return dead;
  }

  int deadCount() {
    int n = 0;
    for (boolean d : dead) {
      n += d ? 1 : 0;
    }
    return n;
  }

  double[] parameter(SaeParameter p) {
    return switch (p) {
      case W_ENC -> wEnc;
      case B_ENC -> bEnc;
      case W_DEC -> wDec;
      case B_DEC -> bDec;
    };
  }

  /** This problem with parameter {@code p} replaced by {@code values}. */
  SaeProblem with(SaeParameter p, double[] values) {
    return new SaeProblem(
        spec,
        batch,
        x,
        p == SaeParameter.W_ENC ? values : wEnc,
        p == SaeParameter.B_ENC ? values : bEnc,
        p == SaeParameter.W_DEC ? values : wDec,
        p == SaeParameter.B_DEC ? values : bDec,
        dead);
  }

  /** This problem with another batch of the same size. */
  SaeProblem withX(double[] batchValues) {
    return new SaeProblem(spec, batch, batchValues, wEnc, bEnc, wDec, bDec, dead);
  }

  /** This problem with another dead mask. */
  SaeProblem withDead(boolean[] mask) {
    return new SaeProblem(spec, batch, x, wEnc, bEnc, wDec, bDec, mask);
  }

  /** The L2 norm of each row of {@code W_dec}, in double precision. */
  double[] decoderNorms() {
    int dIn = spec.dIn();
    int dSae = spec.dSae();
    double[] norms = new double[dSae];
    for (int j = 0; j < dSae; j++) {
      double s = 0;
      for (int d = 0; d < dIn; d++) {
        s += wDec[j * dIn + d] * wDec[j * dIn + d];
      }
      norms[j] = Math.sqrt(s);
    }
    return norms;
  }

  /** The rescaled pre-activation {@code h [B, d_sae]} in double precision. */
  double[][] hiddenPre() {
    int dIn = spec.dIn();
    int dSae = spec.dSae();
    double[] norms = decoderNorms();
    double[][] h = new double[batch][dSae];
    for (int b = 0; b < batch; b++) {
      for (int j = 0; j < dSae; j++) {
        double s = bEnc[j];
        for (int d = 0; d < dIn; d++) {
          s += (x[b * dIn + d] - bDec[d]) * wEnc[d * dSae + j];
        }
        h[b][j] = s * norms[j];
      }
    }
    return h;
  }

  static double[] doubles(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  private static double[] gaussian(Random r, int n, double scale) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextGaussian() * scale;
    }
    return v;
  }

  private static void check(String name, double[] v, long expected) {
    check(name, v.length, expected);
  }

  private static void check(String name, long actual, long expected) {
    if (actual != expected) {
      throw new IllegalArgumentException(
          name + " has " + actual + " elements, expected " + expected);
    }
  }
}
