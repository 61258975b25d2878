package io.saestream.synthetic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class GroundTruthModelTest {

  private static final int D_IN = 64;
  private static final int FEATURES = 256;

  private static GroundTruthModel model(long seed) {
    return new GroundTruthModel(GroundTruthConfig.defaults(D_IN, FEATURES, seed));
  }

  @Test
  void sameSeedGivesTheSameDictionaryAndTheSameTokens() {
    GroundTruthModel a = model(7);
    GroundTruthModel b = model(7);
    assertThat(a.dictionary()).isDeepEqualTo(b.dictionary());
    assertThat(a.sampleBatch(new SplittableRandom(3), 50))
        .containsExactly(b.sampleBatch(new SplittableRandom(3), 50));
  }

  @Test
  void differentSeedsGiveDifferentDictionaries() {
    assertThat(model(7).direction(0)).isNotEqualTo(model(8).direction(0));
  }

  @Test
  void everyDirectionHasUnitNorm() {
    for (float[] row : model(1).dictionary()) {
      double norm2 = 0;
      for (float v : row) {
        norm2 += v * v;
      }
      // float32 rounding of d_in = 64 normalised entries: far below 1e-5.
      assertThat(Math.sqrt(norm2)).isCloseTo(1.0, within(1e-5));
    }
  }

  @Test
  void dictionaryIsInSuperpositionButNotDegenerate() {
    float[][] dict = model(1).dictionary();
    double maxCos = 0;
    for (int i = 0; i < dict.length; i++) {
      for (int j = i + 1; j < dict.length; j++) {
        maxCos = Math.max(maxCos, Math.abs(dot(dict[i], dict[j])));
      }
    }
    // 256 random directions in R^64: overlapping (not orthogonal), but no two nearly equal.
    assertThat(maxCos).isBetween(0.3, 0.8);
  }

  @Test
  void firingProbabilitiesFollowTheZipfLawAndSumToTheTargetL0() {
    GroundTruthConfig config =
        GroundTruthConfig.defaults(D_IN, FEATURES, 1).withZipfExponent(1.2).withMeanActive(1.5);
    double[] p = new GroundTruthModel(config).firingProbabilities();
    assertThat(Arrays.stream(p).sum()).isCloseTo(1.5, within(1e-9));
    assertThat(p[0]).isLessThan(GroundTruthConfig.DEFAULT_MAX_FIRING_PROBABILITY);
    for (int i = 0; i < p.length; i++) {
      // p_i (i+1)^α is the same constant for every feature below the cap.
      assertThat(p[i] * Math.pow(i + 1, 1.2)).isCloseTo(p[0], within(1e-12));
    }
  }

  @Test
  void theCapSaturatesTheMostFrequentFeaturesAndTheRestKeepTheLaw() {
    GroundTruthConfig config =
        GroundTruthConfig.defaults(D_IN, FEATURES, 1)
            .withZipfExponent(1.0)
            .withMeanActive(20)
            .withMaxFiringProbability(0.3);
    double[] p = new GroundTruthModel(config).firingProbabilities();
    assertThat(Arrays.stream(p).sum()).isCloseTo(20.0, within(1e-9));
    assertThat(p[0]).isEqualTo(0.3);
    int firstFree = 0;
    while (p[firstFree] == 0.3) {
      firstFree++;
    }
    assertThat(firstFree).isGreaterThan(1);
    for (int i = firstFree; i < p.length; i++) {
      assertThat(p[i]).isLessThanOrEqualTo(0.3);
      assertThat(p[i] * (i + 1)).isCloseTo(p[firstFree] * (firstFree + 1), within(1e-12));
    }
  }

  @Test
  void observedFiringFrequenciesFollowTheZipfLaw() {
    GroundTruthModel model =
        new GroundTruthModel(
            // L0 2.5 keeps every probability under the cap (p_0 ≈ 0.41), so the law is pure.
            GroundTruthConfig.defaults(D_IN, FEATURES, 11)
                .withZipfExponent(1.0)
                .withMeanActive(2.5));
    assertThat(model.firingProbability(0))
        .isLessThan(GroundTruthConfig.DEFAULT_MAX_FIRING_PROBABILITY);
    int tokens = 200_000;
    long[] counts = new long[FEATURES];
    SplittableRandom rng = new SplittableRandom(5);
    for (int t = 0; t < tokens; t++) {
      for (int f : model.drawActive(rng)) {
        counts[f]++;
      }
    }
    for (int f = 0; f < FEATURES; f++) {
      double p = model.firingProbability(f);
      double sigma = Math.sqrt(tokens * p * (1 - p));
      // Binomial counts: 5 σ per feature keeps the chance of a false alarm over 256 features
      // below 1e-4 (and the seed is fixed).
      assertThat((double) counts[f])
          .as("firings of feature %d", f)
          .isCloseTo(tokens * p, within(5 * sigma));
    }
    // Least-squares slope of log frequency against log rank over the first 64 features: −α.
    double slope = logLogSlope(counts, 64);
    assertThat(slope).isCloseTo(-1.0, within(0.05));
  }

  @Test
  void meanL0IsTheTarget() {
    GroundTruthModel model = model(2);
    SplittableRandom rng = new SplittableRandom(9);
    int tokens = 100_000;
    long active = 0;
    for (int t = 0; t < tokens; t++) {
      active += model.drawActive(rng).length;
    }
    // σ(L0) ≈ √(Σp(1−p)) < 3, so σ of the mean over 1e5 tokens < 0.01; 0.05 is 5 σ.
    assertThat(active / (double) tokens)
        .isCloseTo(GroundTruthConfig.DEFAULT_MEAN_ACTIVE, within(0.05));
  }

  @Test
  void activeFeaturesAreAscendingAndDistinct() {
    GroundTruthModel model = model(2);
    SplittableRandom rng = new SplittableRandom(1);
    for (int t = 0; t < 1000; t++) {
      int[] active = model.drawActive(rng);
      for (int k = 1; k < active.length; k++) {
        assertThat(active[k]).isGreaterThan(active[k - 1]);
      }
    }
  }

  @Test
  void noiseHasTheConfiguredSignalToNoiseRatio() {
    GroundTruthModel model =
        new GroundTruthModel(
            GroundTruthConfig.defaults(D_IN, FEATURES, 4).withSnr(5.0).withOffsetNorm(3));
    SplittableRandom rng = new SplittableRandom(8);
    int tokens = 20_000;
    float[] offset = model.offset();
    double signalPower = 0;
    double noisePower = 0;
    for (int t = 0; t < tokens; t++) {
      TokenSample s = model.sample(rng);
      float[] signal = new float[D_IN];
      for (int k = 0; k < s.l0(); k++) {
        float[] d = model.direction(s.activeFeatures()[k]);
        for (int j = 0; j < D_IN; j++) {
          signal[j] += s.magnitudes()[k] * d[j];
        }
      }
      for (int j = 0; j < D_IN; j++) {
        double noise = s.activation()[j] - offset[j] - signal[j];
        noisePower += noise * noise;
        signalPower += signal[j] * signal[j];
      }
    }
    // Relative standard errors over 2e4 tokens: ~0.2 % for the noise (χ² with 64 dof per token)
    // and < 1 % for the signal (Poisson count of exponential magnitudes); 5 % is > 5 σ.
    assertThat(signalPower / tokens).isCloseTo(model.expectedSignalPower(), withinPercentage(5));
    assertThat(signalPower / noisePower).isCloseTo(5.0, withinPercentage(5));
  }

  @Test
  void withoutNoiseATokenIsExactlyOffsetPlusItsFeatures() {
    GroundTruthModel model =
        new GroundTruthModel(
            GroundTruthConfig.defaults(D_IN, FEATURES, 4)
                .withSnr(Double.POSITIVE_INFINITY)
                .withOffsetNorm(2));
    assertThat(model.noiseStd()).isZero();
    float[] offset = model.offset();
    assertThat(Math.sqrt(dot(offset, offset))).isCloseTo(2.0, within(1e-5));

    float[] empty = new float[D_IN];
    model.compose(new int[0], new float[0], 0, new SplittableRandom(1), empty, 0);
    assertThat(empty).containsExactly(offset);

    float[] x = new float[D_IN];
    model.compose(new int[] {3, 9}, new float[] {2f, 0.5f}, 2, new SplittableRandom(1), x, 0);
    float[] d3 = model.direction(3);
    float[] d9 = model.direction(9);
    for (int j = 0; j < D_IN; j++) {
      assertThat(x[j]).isCloseTo(offset[j] + 2f * d3[j] + 0.5f * d9[j], within(1e-6f));
    }
  }

  @Test
  void magnitudesAreAtLeastTheScaleWithMeanTwiceIt() {
    GroundTruthModel model =
        new GroundTruthModel(GroundTruthConfig.defaults(D_IN, FEATURES, 4).withMagnitudeScale(1.5));
    SplittableRandom rng = new SplittableRandom(2);
    double sum = 0;
    int n = 100_000;
    for (int i = 0; i < n; i++) {
      float m = model.drawMagnitude(rng);
      assertThat(m).isGreaterThanOrEqualTo(1.5f);
      sum += m;
    }
    // m = 1.5 (1 + Exp(1)): mean 3, σ 1.5, σ of the mean 0.005; 0.03 is 6 σ.
    assertThat(sum / n).isCloseTo(3.0, within(0.03));
  }

  @Test
  void sampleBatchDrawsTheSameTokensAsRepeatedSamples() {
    GroundTruthModel model = model(6);
    float[] batch = model.sampleBatch(new SplittableRandom(4), 20);
    SplittableRandom rng = new SplittableRandom(4);
    for (int t = 0; t < 20; t++) {
      assertThat(Arrays.copyOfRange(batch, t * D_IN, (t + 1) * D_IN))
          .containsExactly(model.sample(rng).activation());
    }
  }

  @Test
  void mmcsOfTheTrueDictionaryIsOne() {
    GroundTruthModel model = model(3);
    float[][] truth = model.dictionary();
    assertThat(GroundTruthModel.meanMaxCosineSimilarity(truth, truth)).isCloseTo(1.0, within(1e-6));
  }

  @Test
  void mmcsIgnoresRowOrderScaleAndDeadRows() {
    GroundTruthModel model = model(3);
    float[][] truth = model.dictionary();
    float[][] learned = new float[FEATURES + 10][];
    for (int i = 0; i < FEATURES; i++) {
      float[] row = truth[FEATURES - 1 - i].clone();
      for (int j = 0; j < D_IN; j++) {
        row[j] *= 0.1f + i;
      }
      learned[i] = row;
    }
    for (int i = FEATURES; i < learned.length; i++) {
      learned[i] = new float[D_IN]; // dead latents
    }
    assertThat(GroundTruthModel.meanMaxCosineSimilarity(truth, learned))
        .isCloseTo(1.0, within(1e-6));
    float[] flat = new float[learned.length * D_IN];
    for (int i = 0; i < learned.length; i++) {
      System.arraycopy(learned[i], 0, flat, i * D_IN, D_IN);
    }
    assertThat(model.meanMaxCosineSimilarity(flat, learned.length)).isCloseTo(1.0, within(1e-6));
  }

  @Test
  void mmcsOfAnUnrelatedDictionaryIsLow() {
    float[][] truth = model(3).dictionary();
    float[][] other = model(4).dictionary();
    double mmcs = GroundTruthModel.meanMaxCosineSimilarity(truth, other);
    // The best of 256 random directions in R^64 reaches a cosine of about 0.35, far from 1.
    assertThat(mmcs).isBetween(0.2, 0.6);
  }

  @Test
  void mmcsIsSignedAndHalfRecoveredDictionariesScoreInBetween() {
    float[][] truth = model(3).dictionary();
    float[][] negated = new float[FEATURES][];
    for (int i = 0; i < FEATURES; i++) {
      negated[i] = truth[i].clone();
      for (int j = 0; j < D_IN; j++) {
        negated[i][j] = -negated[i][j];
      }
    }
    float[][] justOne = {negated[0]};
    assertThat(GroundTruthModel.meanMaxCosineSimilarity(new float[][] {truth[0]}, justOne))
        .isCloseTo(-1.0, within(1e-6));
    float[][] half = Arrays.copyOf(truth, FEATURES / 2);
    double mmcs = GroundTruthModel.meanMaxCosineSimilarity(truth, half);
    assertThat(mmcs).isGreaterThan(0.6).isLessThan(0.75);
  }

  @Test
  void mmcsRejectsMismatchedShapes() {
    float[][] truth = model(3).dictionary();
    assertThatThrownBy(() -> GroundTruthModel.meanMaxCosineSimilarity(truth, new float[0][]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("0 learned");
    assertThatThrownBy(
            () -> GroundTruthModel.meanMaxCosineSimilarity(truth, new float[][] {new float[3]}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("learned row 0 must have d_in = 64 entries, had 3");
    assertThatThrownBy(() -> model(3).meanMaxCosineSimilarity(new float[10], 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("had 10 values for 1 rows");
    assertThatThrownBy(
            () ->
                GroundTruthModel.meanMaxCosineSimilarity(
                    new float[][] {new float[4]}, new float[][] {new float[4]}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("true feature 0 has norm 0.0");
  }

  @Test
  void composeRejectsBadArguments() {
    GroundTruthModel model = model(1);
    SplittableRandom rng = new SplittableRandom(1);
    assertThatThrownBy(
            () -> model.compose(new int[] {1}, new float[] {1}, 2, rng, new float[D_IN], 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("count must be in [0, 1], was 2");
    assertThatThrownBy(
            () -> model.compose(new int[] {FEATURES}, new float[] {1}, 1, rng, new float[D_IN], 0))
        .isInstanceOf(IndexOutOfBoundsException.class)
        .hasMessage("feature must be in [0, 256), was 256");
    assertThatThrownBy(() -> model.compose(new int[0], new float[0], 0, rng, new float[D_IN], 1))
        .isInstanceOf(IndexOutOfBoundsException.class);
  }

  static Stream<Arguments> invalidConfigs() {
    GroundTruthConfig ok = GroundTruthConfig.defaults(D_IN, FEATURES, 1);
    return Stream.of(
        Arguments.of(
            (Supplier<?>) () -> GroundTruthConfig.defaults(-3, FEATURES, 1),
            "d_in must be > 0, was -3"),
        Arguments.of(
            (Supplier<?>) () -> GroundTruthConfig.defaults(D_IN, 0, 1),
            "features must be > 0, was 0"),
        Arguments.of(
            (Supplier<?>) () -> ok.withZipfExponent(-1),
            "zipf exponent must be finite and >= 0, was -1.0"),
        Arguments.of(
            (Supplier<?>) () -> ok.withMeanActive(0),
            "mean active features must be in (0, features × max firing probability = 128.0], was 0.0"),
        Arguments.of(
            (Supplier<?>) () -> ok.withMeanActive(129),
            "mean active features must be in (0, features × max firing probability = 128.0], was 129.0"),
        Arguments.of(
            (Supplier<?>) () -> ok.withMaxFiringProbability(1.5),
            "max firing probability must be in (0, 1], was 1.5"),
        Arguments.of(
            (Supplier<?>) () -> ok.withMagnitudeScale(0),
            "magnitude scale must be finite and > 0, was 0.0"),
        Arguments.of(
            (Supplier<?>) () -> ok.withSnr(Double.NaN),
            "snr must be > 0 (infinity for no noise), was NaN"),
        Arguments.of(
            (Supplier<?>) () -> ok.withOffsetNorm(-1),
            "offset norm must be finite and >= 0, was -1.0"));
  }

  @ParameterizedTest
  @MethodSource("invalidConfigs")
  void invalidConfigsAreRejectedWithAClearMessage(Supplier<?> build, String message) {
    assertThatThrownBy(build::get).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
  }

  @Test
  void tooLargeDictionariesAreRejectedBeforeAllocating() {
    assertThatThrownBy(() -> new GroundTruthModel(GroundTruthConfig.defaults(65_536, 65_536, 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("features × d_in must fit one Java array");
  }

  private static org.assertj.core.data.Percentage withinPercentage(double percent) {
    return org.assertj.core.data.Percentage.withPercentage(percent);
  }

  private static double dot(float[] a, float[] b) {
    double s = 0;
    for (int j = 0; j < a.length; j++) {
      s += (double) a[j] * b[j];
    }
    return s;
  }

  private static double logLogSlope(long[] counts, int n) {
    double mx = 0;
    double my = 0;
    for (int i = 0; i < n; i++) {
      mx += Math.log(i + 1);
      my += Math.log((double) counts[i]);
    }
    mx /= n;
    my /= n;
    double sxy = 0;
    double sxx = 0;
    for (int i = 0; i < n; i++) {
      double dx = Math.log(i + 1) - mx;
      sxy += dx * (Math.log((double) counts[i]) - my);
      sxx += dx * dx;
    }
    return sxy / sxx;
  }
}
