package io.saestream.synthetic;

import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * A known sparse generative model of activations, the ground truth an SAE should recover: {@code x
 * = offset + Σ_{i active} m_i·d_i + noise}, with F unit-norm directions {@code d_i} in R^d_in
 * (random Gaussian directions, normalised; in superposition when F > d_in), features firing
 * independently with Zipf-like probabilities {@code p_i ∝ 1/(i+1)^α} scaled so that {@code Σ p_i}
 * is the target L0 (each capped at {@link GroundTruthConfig#maxFiringProbability()}), magnitudes
 * {@code m = s·(1 + Exponential(1))}, and isotropic Gaussian noise whose power is {@code E‖signal‖²
 * / snr}.
 *
 * <p>Everything about the model (directions, offset) is fixed by the seed of its config; sampling
 * draws from a generator the caller passes in, so that a caller that seeds its generator gets the
 * same tokens every run.
 *
 * <p>Immutable and thread-safe; the directions take {@code 4·F·d_in} bytes of heap.
 */
public final class GroundTruthModel {

  private final GroundTruthConfig config;
  private final int dIn;
  private final int features;
  private final float[] directions;
  private final double[] firing;
  private final int[] groupStarts;
  private final float[] offset;
  private final double signalPower;
  private final float noiseStd;

  /** Builds the model that {@code config} (and its seed) describes. */
  public GroundTruthModel(GroundTruthConfig config) {
    this.config = Objects.requireNonNull(config, "config");
    this.dIn = config.dIn();
    this.features = config.features();
    if ((long) features * dIn > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "features × d_in must fit one Java array (< 2^31), was " + features + " × " + dIn);
    }
    SplittableRandom rng = new SplittableRandom(config.seed());
    this.directions = new float[features * dIn];
    double[] row = new double[dIn];
    for (int f = 0; f < features; f++) {
      randomUnitVector(rng, row);
      for (int j = 0; j < dIn; j++) {
        directions[f * dIn + j] = (float) row[j];
      }
    }
    // Drawn even when unused, so that the offset norm never changes anything else.
    randomUnitVector(rng, row);
    this.offset = new float[dIn];
    for (int j = 0; j < dIn; j++) {
      offset[j] = (float) (row[j] * config.offsetNorm());
    }
    this.firing =
        firingProbabilities(
            features, config.zipfExponent(), config.meanActive(), config.maxFiringProbability());
    this.groupStarts = powerOfTwoGroups(features);
    this.signalPower = expectedSignalPower(directions, firing, dIn, config.magnitudeScale());
    this.noiseStd =
        Double.isInfinite(config.snr())
            ? 0f
            : (float) Math.sqrt(signalPower / (config.snr() * dIn));
  }

  /** The configuration this model was built from. */
  public GroundTruthConfig config() {
    return config;
  }

  /** Width of an activation vector. */
  public int dIn() {
    return dIn;
  }

  /** Number of ground-truth features F. */
  public int features() {
    return features;
  }

  /** A copy of the dictionary: row i is the unit-norm direction of feature i, shape [F][d_in]. */
  public float[][] dictionary() {
    float[][] copy = new float[features][];
    for (int f = 0; f < features; f++) {
      copy[f] = Arrays.copyOfRange(directions, f * dIn, (f + 1) * dIn);
    }
    return copy;
  }

  /** A copy of the unit-norm direction of {@code feature}. */
  public float[] direction(int feature) {
    checkFeature(feature);
    return Arrays.copyOfRange(directions, feature * dIn, (feature + 1) * dIn);
  }

  /** The probability that {@code feature} fires in a token of the base distribution. */
  public double firingProbability(int feature) {
    checkFeature(feature);
    return firing[feature];
  }

  /** A copy of every feature's firing probability; they sum to the target L0. */
  public double[] firingProbabilities() {
    return firing.clone();
  }

  /** A copy of the constant offset added to every token (zeros when the offset norm is 0). */
  public float[] offset() {
    return offset.clone();
  }

  /** {@code E‖Σ m_i·d_i‖²} per token of the base distribution, exactly, for this dictionary. */
  public double expectedSignalPower() {
    return signalPower;
  }

  /** Standard deviation of the noise in each dimension. */
  public double noiseStd() {
    return noiseStd;
  }

  /** Draws which features fire in one token, each independently; ascending indices. */
  public int[] drawActive(RandomGenerator rng) {
    Objects.requireNonNull(rng, "rng");
    int[] active = new int[16];
    int count = 0;
    for (int g = 0; g + 1 < groupStarts.length; g++) {
      int start = groupStarts[g];
      int end = groupStarts[g + 1];
      double ceiling = firing[start];
      if (ceiling <= 0) {
        break; // probabilities never increase, so no later feature fires either
      }
      if (ceiling >= 1) {
        for (int i = start; i < end; i++) {
          if (rng.nextDouble() < firing[i]) {
            active = append(active, count++, i);
          }
        }
        continue;
      }
      // Thinning: candidates arrive as Bernoulli(ceiling) successes, found by geometric skips,
      // and candidate i is kept with p_i / ceiling; within a group p_i / ceiling >= 2^-α, so the
      // cost is O(L0) rather than O(F) per token.
      double logMiss = Math.log1p(-ceiling);
      int i = start;
      while (true) {
        double skip = Math.floor(Math.log1p(-rng.nextDouble()) / logMiss);
        if (skip >= end - i) {
          break;
        }
        i += (int) skip;
        if (rng.nextDouble() * ceiling < firing[i]) {
          active = append(active, count++, i);
        }
        i++;
      }
    }
    return Arrays.copyOf(active, count);
  }

  /** Draws one magnitude {@code s·(1 + Exponential(1))}. */
  public float drawMagnitude(RandomGenerator rng) {
    return (float) (config.magnitudeScale() * (1.0 + rng.nextExponential()));
  }

  /**
   * Writes {@code offset + Σ_k magnitudes[k]·d_{active[k]} + noise} into {@code out[at, at +
   * d_in)}; the noise is drawn from {@code rng}.
   *
   * @param count how many entries of {@code active} and {@code magnitudes} to use
   */
  public void compose(
      int[] active, float[] magnitudes, int count, RandomGenerator rng, float[] out, int at) {
    if (count < 0 || count > active.length || count > magnitudes.length) {
      throw new IllegalArgumentException(
          "count must be in [0, " + Math.min(active.length, magnitudes.length) + "], was " + count);
    }
    Objects.checkFromIndexSize(at, dIn, out.length);
    if (noiseStd > 0) {
      for (int j = 0; j < dIn; j++) {
        out[at + j] = offset[j] + noiseStd * (float) rng.nextGaussian();
      }
    } else {
      System.arraycopy(offset, 0, out, at, dIn);
    }
    for (int k = 0; k < count; k++) {
      int f = active[k];
      checkFeature(f);
      float m = magnitudes[k];
      int base = f * dIn;
      for (int j = 0; j < dIn; j++) {
        out[at + j] += m * directions[base + j];
      }
    }
  }

  /** Draws one token of the base distribution, with its ground truth. */
  public TokenSample sample(RandomGenerator rng) {
    int[] active = drawActive(rng);
    float[] magnitudes = new float[active.length];
    for (int k = 0; k < active.length; k++) {
      magnitudes[k] = drawMagnitude(rng);
    }
    float[] x = new float[dIn];
    compose(active, magnitudes, active.length, rng, x, 0);
    return new TokenSample(x, active, magnitudes);
  }

  /** Draws {@code tokens} tokens of the base distribution, row-major {@code [tokens, d_in]}. */
  public float[] sampleBatch(RandomGenerator rng, int tokens) {
    if (tokens < 0 || (long) tokens * dIn > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "tokens must be >= 0 and tokens × d_in fit one array, was " + tokens);
    }
    float[] out = new float[tokens * dIn];
    float[] magnitudes = new float[16];
    for (int t = 0; t < tokens; t++) {
      int[] active = drawActive(rng);
      if (magnitudes.length < active.length) {
        magnitudes = new float[active.length];
      }
      for (int k = 0; k < active.length; k++) {
        magnitudes[k] = drawMagnitude(rng);
      }
      compose(active, magnitudes, active.length, rng, out, t * dIn);
    }
    return out;
  }

  /**
   * Mean max cosine similarity of a learned decoder to this dictionary; see {@link
   * #meanMaxCosineSimilarity(float[][], float[][])}.
   *
   * @param learnedRows decoder rows, row-major {@code [rows, d_in]}
   */
  public double meanMaxCosineSimilarity(float[] learnedRows, int rows) {
    return mmcs(directions, features, learnedRows, rows, dIn);
  }

  /**
   * Mean max cosine similarity (MMCS) of a learned dictionary to the true one: the mean over true
   * features of the largest cosine between it and any learned row. 1 means every true feature was
   * recovered exactly. Learned rows of norm zero (e.g. dead latents) match nothing; the cost is
   * {@code O(true × learned × d_in)}.
   *
   * @param trueFeatures the ground-truth directions, [F][d_in], none of norm zero
   * @param learnedRows the learned decoder rows (W_dec), [d_sae][d_in]
   */
  public static double meanMaxCosineSimilarity(float[][] trueFeatures, float[][] learnedRows) {
    Objects.requireNonNull(trueFeatures, "trueFeatures");
    Objects.requireNonNull(learnedRows, "learnedRows");
    if (trueFeatures.length == 0 || learnedRows.length == 0) {
      throw new IllegalArgumentException(
          "both dictionaries must have rows, had "
              + trueFeatures.length
              + " true and "
              + learnedRows.length
              + " learned");
    }
    int d = trueFeatures[0].length;
    return mmcs(
        flatten(trueFeatures, d, "true"),
        trueFeatures.length,
        flatten(learnedRows, d, "learned"),
        learnedRows.length,
        d);
  }

  private static float[] flatten(float[][] rows, int d, String which) {
    if ((long) rows.length * d > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          which + " dictionary is too large: " + rows.length + " × " + d);
    }
    float[] flat = new float[rows.length * d];
    for (int r = 0; r < rows.length; r++) {
      if (rows[r].length != d) {
        throw new IllegalArgumentException(
            which + " row " + r + " must have d_in = " + d + " entries, had " + rows[r].length);
      }
      System.arraycopy(rows[r], 0, flat, r * d, d);
    }
    return flat;
  }

  private static double mmcs(float[] truth, int nTrue, float[] learned, int nLearned, int d) {
    if (d <= 0) {
      throw new IllegalArgumentException("d_in must be > 0, was " + d);
    }
    if (nLearned <= 0 || learned.length != (long) nLearned * d) {
      throw new IllegalArgumentException(
          "learned rows must be a non-empty row-major [rows, "
              + d
              + "] array, had "
              + learned.length
              + " values for "
              + nLearned
              + " rows");
    }
    double[] learnedNorms = new double[nLearned];
    for (int r = 0; r < nLearned; r++) {
      learnedNorms[r] = Math.sqrt(dot(learned, r * d, learned, r * d, d));
    }
    double total = 0;
    for (int t = 0; t < nTrue; t++) {
      double trueNorm = Math.sqrt(dot(truth, t * d, truth, t * d, d));
      if (!(trueNorm > 0)) {
        throw new IllegalArgumentException("true feature " + t + " has norm " + trueNorm);
      }
      double best = Double.NEGATIVE_INFINITY;
      for (int r = 0; r < nLearned; r++) {
        if (learnedNorms[r] > 0) {
          best =
              Math.max(best, dot(truth, t * d, learned, r * d, d) / (trueNorm * learnedNorms[r]));
        }
      }
      total += best == Double.NEGATIVE_INFINITY ? 0.0 : best;
    }
    return total / nTrue;
  }

  private static double dot(float[] a, int aAt, float[] b, int bAt, int d) {
    double sum = 0;
    for (int j = 0; j < d; j++) {
      sum += (double) a[aAt + j] * b[bAt + j];
    }
    return sum;
  }

  /**
   * {@code p_i = min(cap, c/(i+1)^α)} with c chosen so that {@code Σ p_i = mean} exactly (water
   * filling: the first s features saturate at the cap, the rest share what is left in proportion to
   * their weights).
   */
  static double[] firingProbabilities(int n, double alpha, double mean, double cap) {
    double[] weights = new double[n];
    for (int i = 0; i < n; i++) {
      weights[i] = Math.pow(i + 1.0, -alpha);
    }
    double[] tail = new double[n + 1];
    for (int i = n - 1; i >= 0; i--) {
      tail[i] = tail[i + 1] + weights[i];
    }
    double[] p = new double[n];
    Arrays.fill(p, cap);
    for (int saturated = 0; saturated < n; saturated++) {
      double scale = (mean - saturated * cap) / tail[saturated];
      if (scale * weights[saturated] <= cap) {
        for (int i = saturated; i < n; i++) {
          p[i] = scale * weights[i];
        }
        return p;
      }
    }
    return p;
  }

  /** Group g holds the features i with {@code 2^g <= i + 1 < 2^(g+1)}. */
  private static int[] powerOfTwoGroups(int n) {
    int[] starts = new int[33];
    int count = 0;
    for (long start = 0; start < n; start = 2 * start + 1) {
      starts[count++] = (int) start;
    }
    starts[count++] = n;
    return Arrays.copyOf(starts, count);
  }

  /**
   * {@code E‖Σ b_i m_i d_i‖² = Σ p_i E[m²] + E[m]² (‖Σ p_i d_i‖² − Σ p_i²)}, with {@code E[m] = 2s}
   * and {@code E[m²] = 5s²} for {@code m = s(1 + Exponential(1))}.
   */
  private static double expectedSignalPower(
      float[] directions, double[] firing, int dIn, double scale) {
    double meanM = 2 * scale;
    double meanM2 = 5 * scale * scale;
    double sumP = 0;
    double sumP2 = 0;
    double[] meanDirection = new double[dIn];
    for (int f = 0; f < firing.length; f++) {
      double p = firing[f];
      sumP += p;
      sumP2 += p * p;
      for (int j = 0; j < dIn; j++) {
        meanDirection[j] += p * directions[f * dIn + j];
      }
    }
    double meanNorm2 = 0;
    for (double v : meanDirection) {
      meanNorm2 += v * v;
    }
    return sumP * meanM2 + meanM * meanM * (meanNorm2 - sumP2);
  }

  private static void randomUnitVector(SplittableRandom rng, double[] out) {
    double norm2;
    do {
      norm2 = 0;
      for (int j = 0; j < out.length; j++) {
        out[j] = rng.nextGaussian();
        norm2 += out[j] * out[j];
      }
    } while (!(norm2 > 1e-12));
    double inv = 1.0 / Math.sqrt(norm2);
    for (int j = 0; j < out.length; j++) {
      out[j] *= inv;
    }
  }

  private static int[] append(int[] array, int at, int value) {
    int[] target = at < array.length ? array : Arrays.copyOf(array, array.length * 2);
    target[at] = value;
    return target;
  }

  private void checkFeature(int feature) {
    if (feature < 0 || feature >= features) {
      throw new IndexOutOfBoundsException(
          "feature must be in [0, " + features + "), was " + feature);
    }
  }

  @Override
  public String toString() {
    return "GroundTruthModel[" + config + "]";
  }
}
