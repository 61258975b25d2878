package io.saestream.synthetic.sequence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.synthetic.GroundTruthConfig;
import io.saestream.synthetic.GroundTruthModel;
import io.saestream.synthetic.ManualClock;
import io.saestream.synthetic.TokenSample;
import io.saestream.synthetic.incident.IncidentSchedule;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SequenceGeneratorTest {

  private static final int D_IN = 64;
  private static final int FEATURES = 512;
  private static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");
  private static final GroundTruthModel MODEL =
      new GroundTruthModel(GroundTruthConfig.defaults(D_IN, FEATURES, 1));
  private static final SequenceConfig SHAPE =
      SequenceConfig.defaults()
          .withTokensPerRecord(16)
          .withLengths(32, 64, 128)
          .withConcurrentSequences(4)
          .withTopics(3, 0.5);

  private static SequenceGenerator generator(
      SequenceConfig config, String incidents, Duration stepPerBatch, long seed) {
    return new SequenceGenerator(
        MODEL, config, IncidentSchedule.parse(incidents), new ManualClock(T0, stepPerBatch), seed);
  }

  @Test
  void sameSeedAndClockGiveTheSameBatches() {
    SequenceGenerator a =
        generator(SHAPE, "burst@3s:feature=9;drift@5s+2s", Duration.ofMillis(100), 5);
    SequenceGenerator b =
        generator(SHAPE, "burst@3s:feature=9;drift@5s+2s", Duration.ofMillis(100), 5);
    SequenceGenerator other =
        generator(SHAPE, "burst@3s:feature=9;drift@5s+2s", Duration.ofMillis(100), 6);
    boolean differs = false;
    for (int i = 0; i < 200; i++) {
      GeneratedBatch x = a.next();
      GeneratedBatch y = b.next();
      assertThat(y.sequenceId()).isEqualTo(x.sequenceId());
      assertThat(y.startPosition()).isEqualTo(x.startPosition());
      assertThat(y.data()).isEqualTo(x.data());
      assertThat(y.tokens()).isEqualTo(x.tokens());
      assertThat(y.tokenIds()).containsExactly(x.tokenIds());
      assertThat(y.generatedAt()).isEqualTo(x.generatedAt());
      differs |= !Arrays.equals(other.next().data(), x.data());
    }
    assertThat(differs).isTrue();
  }

  @Test
  void sequencesAreContiguousBoundedAndInterleaved() {
    SequenceGenerator generator = generator(SHAPE, "", Duration.ZERO, 2);
    Map<String, Integer> nextPosition = new HashMap<>();
    Set<String> finished = new HashSet<>();
    List<Integer> lengths = new ArrayList<>();
    int switches = 0;
    String previous = "";
    for (int i = 0; i < 1000; i++) {
      GeneratedBatch batch = generator.next();
      String id = batch.sequenceId();
      assertThat(id).startsWith("seq-");
      assertThat(finished).doesNotContain(id);
      assertThat(batch.startPosition()).isEqualTo(nextPosition.getOrDefault(id, 0));
      assertThat(batch.nTokens()).isBetween(1, 16);
      assertThat(batch.data()).hasSize(batch.nTokens() * D_IN);
      assertThat(batch.tokens()).hasSize(batch.nTokens());
      nextPosition.put(id, batch.startPosition() + batch.nTokens());
      if (batch.nTokens() < 16) {
        assertThat(batch.lastInSequence()).isTrue();
      }
      if (batch.lastInSequence()) {
        finished.add(id);
        lengths.add(nextPosition.get(id));
      }
      switches += id.equals(previous) ? 0 : 1;
      previous = id;
    }
    assertThat(lengths).hasSizeGreaterThan(50).allSatisfy(n -> assertThat(n).isBetween(32, 128));
    double meanLength = lengths.stream().mapToInt(Integer::intValue).average().orElseThrow();
    // Mean 64 truncated at 128 lowers it a little; 1000 × 16 tokens give ~200 sequences.
    assertThat(meanLength).isBetween(52.0, 68.0);
    // Four sequences in flight, picked at random: about three batches in four switch sequence.
    assertThat(switches).isGreaterThan(600);
    assertThat(generator.sequencesStarted()).isEqualTo(nextPosition.size());
  }

  @Test
  void topicFeaturesFireMuchMoreOftenWithinTheirSequence() {
    SequenceConfig config =
        SHAPE
            .withLengths(256, 256, 256)
            .withTokensPerRecord(64)
            .withConcurrentSequences(1)
            .withTopics(3, 0.8);
    SequenceGenerator generator = generator(config, "", Duration.ZERO, 3);
    for (int s = 0; s < 5; s++) {
      int[] counts = new int[FEATURES];
      int tokens = 0;
      String id = null;
      GeneratedBatch batch;
      do {
        batch = generator.next();
        id = id == null ? batch.sequenceId() : id;
        assertThat(batch.sequenceId()).isEqualTo(id);
        for (int t = 0; t < batch.nTokens(); t++) {
          for (int f : batch.sample(t).activeFeatures()) {
            counts[f]++;
          }
          tokens++;
        }
      } while (!batch.lastInSequence());
      int boosted = 0;
      for (int f = 0; f < FEATURES; f++) {
        // A topic fires in p + 0.8 (1 − p) >= p + 0.4 of the tokens (p <= the 0.5 cap); over
        // 256 tokens σ <= 0.031, so an excess of 0.2 separates topics from the rest by > 6 σ.
        if (counts[f] / (double) tokens - MODEL.firingProbability(f) >= 0.2) {
          boosted++;
        }
      }
      assertThat(boosted).as("boosted features of sequence %s", id).isEqualTo(3);
    }
  }

  @Test
  void tokenTextIsATriggerWordOfTheStrongestFeatureOrAFiller() {
    SequenceGenerator generator = generator(SHAPE, "", Duration.ZERO, 4);
    Vocabulary vocabulary = generator.vocabulary();
    int fillers = 0;
    for (int i = 0; i < 100; i++) {
      GeneratedBatch batch = generator.next();
      for (int t = 0; t < batch.nTokens(); t++) {
        TokenSample sample = batch.sample(t);
        int id = batch.tokenIds()[t];
        assertThat(batch.tokens().get(t)).isEqualTo(vocabulary.text(id));
        if (sample.l0() == 0) {
          assertThat(vocabulary.featureOf(id)).isEqualTo(-1);
          fillers++;
        } else {
          int strongest = 0;
          for (int k = 1; k < sample.l0(); k++) {
            if (sample.magnitudes()[k] > sample.magnitudes()[strongest]) {
              strongest = k;
            }
          }
          assertThat(vocabulary.featureOf(id)).isEqualTo(sample.activeFeatures()[strongest]);
        }
      }
    }
    // With L0 ≈ 9.5 a token without features is rare but not impossible.
    assertThat(fillers).isLessThan(20);
  }

  @Test
  void aBurstHitsExactlyTheScheduledTokensOfOneSequence() {
    SequenceGenerator generator =
        generator(SHAPE, "burst@10s:feature=5,tokens=20,magnitude=30", Duration.ofSeconds(1), 7);
    float[] direction = MODEL.direction(5);
    Set<String> burstSequences = new HashSet<>();
    List<Integer> burstPositions = new ArrayList<>();
    GeneratedBatch firstDue = null;
    for (int i = 0; i < 60; i++) {
      GeneratedBatch batch = generator.next();
      boolean due = !batch.generatedAt().isBefore(T0.plusSeconds(10));
      if (due && firstDue == null) {
        firstDue = batch;
      }
      for (int t = 0; t < batch.nTokens(); t++) {
        float[] x = Arrays.copyOfRange(batch.data(), t * D_IN, (t + 1) * D_IN);
        double projection = dot(x, direction);
        if (batch.isBurst(t)) {
          assertThat(due).isTrue();
          assertThat(batch.burstFeature()).isEqualTo(5);
          assertThat(batch.sample(t).magnitudeOf(5)).isEqualTo(30f);
          assertThat(generator.vocabulary().featureOf(batch.tokenIds()[t])).isEqualTo(5);
          burstSequences.add(batch.sequenceId());
          burstPositions.add(batch.startPosition() + t);
          // 30 along d_5, give or take the overlap of ~9 other features and the noise.
          assertThat(projection).isGreaterThan(20);
        } else {
          // Natural magnitudes reach 15 once in e^14 firings; the overlap adds a few units at most.
          assertThat(projection).isLessThan(15);
        }
      }
    }
    GeneratedBatch scheduled = Objects.requireNonNull(firstDue, "no batch after 10 s");
    assertThat(burstSequences).containsExactly(scheduled.sequenceId());
    int start = scheduled.startPosition();
    assertThat(burstPositions).hasSize(20);
    for (int k = 0; k < 20; k++) {
      assertThat(burstPositions.get(k)).isEqualTo(start + k);
    }
  }

  @Test
  void aBurstLengthensASequenceTooShortToHoldIt() {
    SequenceConfig config =
        SHAPE.withLengths(8, 8, 8).withTokensPerRecord(4).withConcurrentSequences(1);
    SequenceGenerator generator =
        generator(config, "burst@0s:feature=2,tokens=20", Duration.ZERO, 1);
    int burstTokens = 0;
    GeneratedBatch batch;
    do {
      batch = generator.next();
      assertThat(batch.sequenceId()).isEqualTo("seq-0");
      for (int t = 0; t < batch.nTokens(); t++) {
        assertThat(batch.isBurst(t)).isTrue();
        burstTokens++;
      }
    } while (!batch.lastInSequence());
    assertThat(burstTokens).isEqualTo(20);
    assertThat(generator.next().sequenceId()).isEqualTo("seq-1");
  }

  @Test
  void driftRaisesTheResidualOfTheTrueSparseReconstructionOnlyDuringItsWindow() {
    SequenceConfig config = SHAPE.withConcurrentSequences(1);
    SequenceGenerator generator =
        generator(config, "drift@5s+5s:scale=3", Duration.ofSeconds(1), 8);
    double inside = 0;
    int insideTokens = 0;
    double outside = 0;
    int outsideTokens = 0;
    for (int i = 0; i < 15; i++) {
      GeneratedBatch batch = generator.next();
      long second = Duration.between(T0, batch.generatedAt()).toSeconds();
      boolean inWindow = second >= 5 && second < 10;
      for (int t = 0; t < batch.nTokens(); t++) {
        assertThat(batch.driftAmplitude(t) > 0).isEqualTo(inWindow);
        double residual = relativeResidual(batch.sample(t));
        if (inWindow) {
          inside += residual;
          insideTokens++;
        } else {
          outside += residual;
          outsideTokens++;
        }
      }
    }
    // Outside: only the noise is left, 1/(1 + snr) ≈ 5 % of the power. Inside: a component
    // 1.5..4.5 times the signal norm that no active feature explains dominates.
    assertThat(outside / outsideTokens).isLessThan(0.1);
    assertThat(inside / insideTokens).isGreaterThan(0.6);
    float[] drift = generator.driftDirection(0);
    assertThat(Math.sqrt(dot(drift, drift)))
        .isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-5));
    for (float[] row : MODEL.dictionary()) {
      assertThat(Math.abs(dot(drift, row))).isLessThan(0.9);
    }
  }

  @Test
  void aClockThatStepsBackDoesNotBreakTheSchedule() {
    ManualClock clock = ManualClock.at(T0);
    SequenceGenerator generator =
        new SequenceGenerator(MODEL, SHAPE, IncidentSchedule.parse("burst@0s:feature=1"), clock, 1);
    clock.advance(Duration.ofSeconds(-5));
    GeneratedBatch batch = generator.next();
    assertThat(batch.isBurst(0)).isTrue();
  }

  @Test
  void aBurstOfAFeatureTheModelLacksIsRefused() {
    assertThatThrownBy(() -> generator(SHAPE, "burst@1s:feature=512", Duration.ZERO, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("targets feature 512, but the model has 512 features");
  }

  static Stream<Arguments> invalidConfigs() {
    SequenceConfig ok = SequenceConfig.defaults();
    return Stream.of(
        Arguments.of(
            (Supplier<?>) () -> ok.withTokensPerRecord(0),
            "tokens per record must be in [1, 65536], was 0"),
        Arguments.of(
            (Supplier<?>) () -> ok.withLengths(0, 1, 1), "min sequence length must be > 0, was 0"),
        Arguments.of(
            (Supplier<?>) () -> ok.withLengths(8, 4, 16),
            "mean sequence length must be in [min, max] = [8, 16], was 4.0"),
        Arguments.of(
            (Supplier<?>) () -> ok.withLengths(8, 20, 16),
            "mean sequence length must be in [min, max] = [8, 16], was 20.0"),
        Arguments.of(
            (Supplier<?>) () -> ok.withConcurrentSequences(0),
            "concurrent sequences must be > 0, was 0"),
        Arguments.of(
            (Supplier<?>) () -> ok.withTopics(-1, 0.5), "topics per sequence must be >= 0, was -1"),
        Arguments.of(
            (Supplier<?>) () -> ok.withTopics(1, 1.5),
            "topic firing probability must be in [0, 1], was 1.5"),
        Arguments.of(
            (Supplier<?>) () -> new SequenceConfig(1, 1, 1, 1, 1, 0, 0, 0, "s"),
            "trigger words per feature must be > 0, was 0"));
  }

  @ParameterizedTest
  @MethodSource("invalidConfigs")
  void invalidConfigsAreRejectedWithAClearMessage(Supplier<?> build, String message) {
    assertThatThrownBy(build::get).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
  }

  /**
   * ‖x − P x‖² / ‖x‖², P the projection onto the span of the token's true active directions: what
   * even a perfect sparse code with the true dictionary cannot explain.
   */
  private static double relativeResidual(TokenSample sample) {
    float[] x = sample.activation();
    int k = sample.l0();
    double[][] d = new double[k][];
    for (int i = 0; i < k; i++) {
      float[] row = MODEL.direction(sample.activeFeatures()[i]);
      d[i] = new double[D_IN];
      for (int j = 0; j < D_IN; j++) {
        d[i][j] = row[j];
      }
    }
    // Normal equations (D Dᵀ) c = D x, solved by Gaussian elimination with partial pivoting.
    double[][] a = new double[k][k + 1];
    for (int i = 0; i < k; i++) {
      for (int m = 0; m < k; m++) {
        a[i][m] = dotD(d[i], d[m]);
      }
      double dx = 0;
      for (int j = 0; j < D_IN; j++) {
        dx += d[i][j] * x[j];
      }
      a[i][k] = dx;
    }
    for (int col = 0; col < k; col++) {
      int pivot = col;
      for (int r = col + 1; r < k; r++) {
        if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) {
          pivot = r;
        }
      }
      double[] swap = a[col];
      a[col] = a[pivot];
      a[pivot] = swap;
      for (int r = col + 1; r < k; r++) {
        double factor = a[r][col] / a[col][col];
        for (int m = col; m <= k; m++) {
          a[r][m] -= factor * a[col][m];
        }
      }
    }
    double[] c = new double[k];
    for (int i = k - 1; i >= 0; i--) {
      double s = a[i][k];
      for (int m = i + 1; m < k; m++) {
        s -= a[i][m] * c[m];
      }
      c[i] = s / a[i][i];
    }
    double residual = 0;
    double norm = 0;
    for (int j = 0; j < D_IN; j++) {
      double fit = 0;
      for (int i = 0; i < k; i++) {
        fit += c[i] * d[i][j];
      }
      residual += (x[j] - fit) * (x[j] - fit);
      norm += (double) x[j] * x[j];
    }
    return residual / norm;
  }

  private static double dotD(double[] a, double[] b) {
    double s = 0;
    for (int j = 0; j < a.length; j++) {
      s += a[j] * b[j];
    }
    return s;
  }

  private static double dot(float[] a, float[] b) {
    double s = 0;
    for (int j = 0; j < a.length; j++) {
      s += (double) a[j] * b[j];
    }
    return s;
  }
}
