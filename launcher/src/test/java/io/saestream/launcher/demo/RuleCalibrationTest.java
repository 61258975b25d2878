package io.saestream.launcher.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.node.TextNode;
import io.saestream.launcher.TopKShape;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.synthetic.GroundTruthConfig;
import io.saestream.synthetic.GroundTruthModel;
import io.saestream.synthetic.incident.DriftEpisode;
import io.saestream.synthetic.incident.LatentBurst;
import io.saestream.synthetic.sequence.SequenceConfig;
import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RuleCalibrationTest {

  private static final int D_IN = 32;
  private static final int FEATURES = 16;
  private static final int D_SAE = 48;
  private static final int BURST_FEATURE = 5;
  private static final TopKShape SHAPE = new TopKShape(D_IN, D_SAE, 8);

  private final GroundTruthModel model =
      new GroundTruthModel(GroundTruthConfig.defaults(D_IN, FEATURES, 3L));
  private final LatentBurst burst =
      new LatentBurst(Duration.ofSeconds(10), BURST_FEATURE, 32, LatentBurst.DEFAULT_MAGNITUDE);
  private final CalibrationTraffic traffic =
      CalibrationTraffic.generate(
          model,
          SequenceConfig.defaults().withTokensPerRecord(64),
          burst,
          new DriftEpisode(Duration.ofSeconds(20), Duration.ofSeconds(5), 3.0),
          7L,
          64,
          4,
          16);

  /** Latent {@code (7 f + 3) mod 48} decodes to feature f; the rest are silenced by b_enc. */
  private static int latentOf(int feature) {
    return (7 * feature + 3) % D_SAE;
  }

  /** An SAE that knows the ground-truth dictionary, with its latents shuffled. */
  private SaeCheckpoint dictionarySae() {
    float[][] dictionary = model.dictionary();
    float[] dec = new float[D_SAE * D_IN];
    float[] bEnc = new float[D_SAE];
    SplittableRandom random = new SplittableRandom(1);
    boolean[] used = new boolean[D_SAE];
    for (int f = 0; f < FEATURES; f++) {
      System.arraycopy(dictionary[f], 0, dec, latentOf(f) * D_IN, D_IN);
      used[latentOf(f)] = true;
    }
    for (int j = 0; j < D_SAE; j++) {
      if (!used[j]) {
        double norm = 0;
        for (int i = 0; i < D_IN; i++) {
          dec[j * D_IN + i] = (float) random.nextGaussian();
          norm += dec[j * D_IN + i] * dec[j * D_IN + i];
        }
        for (int i = 0; i < D_IN; i++) {
          dec[j * D_IN + i] /= (float) Math.sqrt(norm);
        }
        bEnc[j] = -100f;
      }
    }
    return SHAPE.tied(dec, bEnc, model.offset());
  }

  @Test
  void findsTheLatentThatCarriesTheBurstFeatureNotTheFeatureIndex() {
    RuleCalibration c = RuleCalibration.measure(TopKSae.of(dictionarySae()), 4, traffic, 8);

    assertThat(c.version()).isEqualTo(4);
    assertThat(c.burstLatent()).isEqualTo(latentOf(BURST_FEATURE)).isNotEqualTo(BURST_FEATURE);
    assertThat(c.burstSeparated()).isTrue();
    // Unit-norm, nearly orthogonal directions: the latent reads the burst magnitude (10) give or
    // take the interference of the other features in 32 dimensions. Feature 5 of 16 is frequent
    // (Zipf), so the 8th strongest of its ~100 natural firings (1 + Exp(1)) in a long sequence
    // reaches 4 to 6, still clearly below.
    assertThat(c.burstActivation()).isBetween(7.0, 12.0);
    assertThat(c.quietActivation()).isLessThan(c.burstActivation() - 2);
    assertThat(c.burstMinActivation()).isStrictlyBetween(c.quietActivation(), c.burstActivation());
  }

  @Test
  void driftedTrafficIsReconstructedMuchWorseThanNormalTraffic() {
    RuleCalibration c = RuleCalibration.measure(TopKSae.of(dictionarySae()), 1, traffic, 8);

    // The drift direction is not in the dictionary and carries ~9x the signal power, while normal
    // tokens lose only noise and what k = 8 truncates (topic features push L0 above 8).
    assertThat(c.driftFvu()).isGreaterThan(5 * c.baselineFvu()).isGreaterThan(1.0);
  }

  @Test
  void randomSaeExplainsLittleOfNormalTraffic() {
    SplittableRandom random = new SplittableRandom(5);
    float[] dec = new float[D_SAE * D_IN];
    for (int j = 0; j < D_SAE; j++) {
      double norm = 0;
      for (int i = 0; i < D_IN; i++) {
        dec[j * D_IN + i] = (float) random.nextGaussian();
        norm += dec[j * D_IN + i] * dec[j * D_IN + i];
      }
      for (int i = 0; i < D_IN; i++) {
        dec[j * D_IN + i] /= (float) Math.sqrt(norm);
      }
    }
    RuleCalibration random0 =
        RuleCalibration.measure(
            TopKSae.of(SHAPE.tied(dec, new float[D_SAE], new float[D_IN])), 0, traffic, 8);
    RuleCalibration learned = RuleCalibration.measure(TopKSae.of(dictionarySae()), 1, traffic, 8);

    assertThat(random0.baselineFvu()).isGreaterThan(2 * learned.baselineFvu());
  }

  @Test
  void driftThresholdSitsAQuarterOfTheWayToTheDriftedFvu() {
    RuleCalibration c = new RuleCalibration(2, 0, 5, 2, 0.5, 4.5);

    assertThat(c.driftThreshold(null)).isCloseTo(0.5 + 0.25 * 4.0, within(1e-12));
  }

  @Test
  void driftThresholdClearsThePreviousVersionsBaselineBecauseASwapWindowMixesBoth() {
    RuleCalibration previous = new RuleCalibration(1, 0, 5, 2, 0.9, 4.0);
    RuleCalibration c = new RuleCalibration(2, 0, 5, 2, 0.5, 4.5);

    assertThat(c.driftThreshold(previous)).isCloseTo(0.9 + 0.25 * 3.6, within(1e-12));
  }

  @Test
  void driftThresholdNeverFallsIntoTheBaselineNoiseWhenTheVersionLearnedTheDrift() {
    RuleCalibration c = new RuleCalibration(3, 0, 5, 2, 0.5, 0.52);

    assertThat(c.driftThreshold(null)).isCloseTo(1.5 * 0.5, within(1e-12));
  }

  @Test
  void burstThresholdFallsBackToTheBurstPercentileWhenNotSeparated() {
    RuleCalibration c = new RuleCalibration(0, 3, 2.0, 3.0, 0.9, 4.0);

    assertThat(c.burstSeparated()).isFalse();
    assertThat(c.burstMinActivation()).isEqualTo(2.0);
    assertThat(c.describe(null)).contains("NOT separated");
  }

  @Test
  void rejectsAnSaeOfAnotherWidth() {
    GroundTruthModel wide = new GroundTruthModel(GroundTruthConfig.defaults(2 * D_IN, 16, 3L));
    CalibrationTraffic other =
        CalibrationTraffic.generate(
            wide,
            SequenceConfig.defaults(),
            burst,
            new DriftEpisode(Duration.ZERO, Duration.ofSeconds(1), 3.0),
            7L,
            8,
            1,
            1);

    assertThatThrownBy(() -> RuleCalibration.measure(TopKSae.of(dictionarySae()), 2, other, 8))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("SAE v2 has d_in 32, the traffic 64");
  }

  @Test
  void rejectsAnSaeThatIsNotTopK() {
    // The same weights declared a standard (ReLU) SAE, without the TopK-only fields.
    SaeCheckpoint topK = SHAPE.tied(new float[D_SAE * D_IN], new float[D_SAE], new float[D_IN]);
    SaeCheckpoint standard =
        SaeCheckpoint.of(
            topK.config()
                .with("architecture", TextNode.valueOf("standard"))
                .without("k")
                .without("rescale_acts_by_decoder_norm"),
            topK.tensors());

    assertThatThrownBy(() -> TopKSae.of(standard))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("topk")
        .hasMessageContaining("standard");
  }

  @Test
  void rejectsInvalidCalibrations() {
    assertThatThrownBy(() -> new RuleCalibration(-1, 0, 1, 0, 0.5, 1))
        .hasMessage("version must be >= 0, was -1");
    assertThatThrownBy(() -> new RuleCalibration(0, -2, 1, 0, 0.5, 1))
        .hasMessage("burst latent must be >= 0, was -2");
    assertThatThrownBy(() -> new RuleCalibration(0, 0, 1, 0, Double.NaN, 1))
        .hasMessageContaining("FVUs must be finite");
  }

  @Test
  void rejectsAMinTokensTheBurstCannotCarryTwice() {
    assertThatThrownBy(() -> RuleCalibration.measure(TopKSae.of(dictionarySae()), 2, traffic, 17))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("min tokens must be in [1, 16], was 17");
  }

  @Test
  void generateRejectsBadCountsAndTooShortBatches() {
    DriftEpisode drift = new DriftEpisode(Duration.ZERO, Duration.ofSeconds(1), 3.0);
    SequenceConfig config = SequenceConfig.defaults();
    assertThatThrownBy(() -> CalibrationTraffic.generate(model, config, burst, drift, 7L, 4, 1, 5))
        .hasMessageContaining("drifts <= batches");
    // 16-token records never hold a 32-token burst.
    assertThatThrownBy(
            () ->
                CalibrationTraffic.generate(
                    model, config.withTokensPerRecord(16), burst, drift, 7L, 4, 1, 1))
        .hasMessageContaining("only 0 of 4 batches hold the 32 tokens of a burst");
  }

  @Test
  void burstBatchesCarryTheFeatureAtTheBurstMagnitude() {
    float[] direction = model.direction(BURST_FEATURE);
    float[] offset = model.offset();
    for (CalibrationTraffic.Batch b : traffic.bursts()) {
      assertThat(b.tokens()).isEqualTo(32);
      for (int t = 0; t < b.tokens(); t++) {
        double projection = 0;
        for (int i = 0; i < D_IN; i++) {
          projection += (b.data()[t * D_IN + i] - offset[i]) * direction[i];
        }
        // The other features' directions and the noise project onto it too (32 dimensions).
        assertThat(projection).isBetween(7.0, 13.0);
      }
    }
  }

  @Test
  void encodeKeepsAtMostKNonNegativeActivations() {
    TopKSae sae = TopKSae.of(dictionarySae());
    float[] acts = new float[D_SAE];
    CalibrationTraffic.Batch b = traffic.bursts().get(0);
    for (int t = 0; t < b.tokens(); t++) {
      sae.encode(b.data(), t, acts);
      int nonZero = 0;
      for (float a : acts) {
        assertThat(a).isGreaterThanOrEqualTo(0f);
        nonZero += a > 0 ? 1 : 0;
      }
      assertThat(nonZero).isLessThanOrEqualTo(8);
    }
  }
}
