package io.saestream.streams.topology;

import static io.saestream.streams.testing.ActivationBatches.FIXTURE_HOOK;
import static io.saestream.streams.testing.ActivationBatches.FIXTURE_MODEL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.Dtype;
import io.saestream.schema.v1.FeatureBatch;
import io.saestream.schema.v1.ReconstructionStats;
import io.saestream.streams.metrics.TokenMetrics;
import io.saestream.streams.testing.ActivationBatches;
import io.saestream.streams.testing.SaeLensFixtures;
import io.saestream.streams.testing.SaeLensFixtures.Matrix;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The topology in the driver with real fixture SAEs: routing, parity with sae-lens, output fields.
 * Dead letters are in {@link DeadLetterTopologyTest}.
 *
 * <p>Tolerances. Latent values: {@code |ours − sae-lens| ≤ 1e-5 · max|row|}; float32 GEMMs that sum
 * in a different order differ by a few ulps of the row's largest terms, not of each element, and
 * the fixtures' own float32-vs-float64 gaps are ~3e-7 of the row maximum. Per-token SSE: {@code ≤
 * 1e-5 · ‖x‖²} — an SSE is a small difference of large numbers, so its error scales with the
 * signal, not with itself. Relative error and cosine (both normalised): 1e-5 absolute. FVU and mean
 * L0 follow from those.
 */
class SaeTopologyTest {

  private static final double TOLERANCE = 1e-5;

  private static TopologyFixture fixture;
  private TopologyFixture.Driver driver;

  @BeforeAll
  static void loadSaes(@TempDir Path stateDir) {
    fixture = new TopologyFixture(stateDir);
  }

  @AfterAll
  static void closeSaes() {
    fixture.close();
  }

  @BeforeEach
  void startDriver() {
    driver = fixture.newDriver();
  }

  @AfterEach
  void closeDriver() {
    driver.close();
  }

  @Test
  void routesOneHookToEverySaeDeployedForIt() {
    Matrix x = SaeLensFixtures.expected("topk_rescale_folded", "x");
    driver.send(ActivationBatches.f32("seq-1", x.rows(), x.cols(), x.data()));

    List<TestRecord<String, FeatureBatch>> features = driver.features.readRecordsToList();
    List<TestRecord<String, ReconstructionStats>> stats = driver.reconstruction.readRecordsToList();
    assertThat(features)
        .extracting(r -> r.value().getSaeId())
        .containsExactly(TopologyFixture.TOPK, TopologyFixture.GATED);
    assertThat(stats)
        .extracting(r -> r.value().getSaeId())
        .containsExactly(TopologyFixture.TOPK, TopologyFixture.GATED);
    assertThat(features).extracting(TestRecord::key).containsOnly("seq-1");
    assertThat(driver.deadLetters.isEmpty()).isTrue();
  }

  @Test
  void acceptedTokensAreCountedOnceWhateverTheNumberOfSaes() {
    Matrix x = SaeLensFixtures.expected("topk_rescale_folded", "x");
    driver.send(ActivationBatches.f32("seq-1", x.rows(), x.cols(), x.data()));
    driver.send(ActivationBatches.f32("seq-2", x.rows(), x.cols(), x.data()));

    assertThat(TokenMetrics.tokensTotal(driver.driver.metrics())).isEqualTo(2L * x.rows());
    assertThat(TokenMetrics.batchesTotal(driver.driver.metrics())).isEqualTo(2L);
  }

  @Test
  void topkFeaturesAndStatsMatchSaeLens() {
    Matrix x = SaeLensFixtures.expected("topk_rescale_folded", "x");
    Matrix acts = SaeLensFixtures.expected("topk_rescale_folded", "feature_acts_loaded");
    Matrix saeOut = SaeLensFixtures.expected("topk_rescale_folded", "sae_out_loaded");
    driver.send(ActivationBatches.f32("seq-topk", x.rows(), x.cols(), x.data()));

    FeatureBatch features =
        ofSae(driver.features.readValuesToList(), FeatureBatch::getSaeId, TopologyFixture.TOPK);
    ReconstructionStats stats =
        ofSae(
            driver.reconstruction.readValuesToList(),
            ReconstructionStats::getSaeId,
            TopologyFixture.TOPK);
    // The sae/ checkpoint is saved folded: served activations are sae-lens's own.
    assertFeaturesMatch(features, acts, ones(acts.cols()), true);
    assertStatsMatch(stats, x, saeOut, acts);
    assertThat(features.getRowOffsets()).hasSize(x.rows() + 1);
    assertThat(features.getLatentIndices()).hasSize(x.rows() * 8);
  }

  @Test
  void gatedFeaturesMatchSaeLensExactly() {
    Matrix x = SaeLensFixtures.expected("gated", "x");
    Matrix acts = SaeLensFixtures.expected("gated", "feature_acts");
    Matrix saeOut = SaeLensFixtures.expected("gated", "sae_out");
    driver.send(ActivationBatches.f32("seq-gated", x.rows(), x.cols(), x.data()));

    FeatureBatch features =
        ofSae(driver.features.readValuesToList(), FeatureBatch::getSaeId, TopologyFixture.GATED);
    ReconstructionStats stats =
        ofSae(
            driver.reconstruction.readValuesToList(),
            ReconstructionStats::getSaeId,
            TopologyFixture.GATED);
    // Served unfolded: the latents are sae-lens's own, not scaled by the decoder norms.
    assertFeaturesMatch(features, acts, ones(acts.cols()), true);
    assertStatsMatch(stats, x, saeOut, acts);
  }

  @Test
  void standardSaeOnItsOwnHookMatchesSaeLens() {
    Matrix x = SaeLensFixtures.expected("standard", "x");
    Matrix acts = SaeLensFixtures.expected("standard", "feature_acts");
    Matrix saeOut = SaeLensFixtures.expected("standard", "sae_out");
    driver.send(
        ActivationBatches.f32(
            FIXTURE_MODEL, TopologyFixture.STANDARD_HOOK, "seq-std", x.rows(), x.cols(), x.data()));

    List<FeatureBatch> features = driver.features.readValuesToList();
    List<ReconstructionStats> stats = driver.reconstruction.readValuesToList();
    assertThat(features)
        .extracting(FeatureBatch::getSaeId)
        .containsExactly(TopologyFixture.STANDARD);
    assertFeaturesMatch(features.get(0), acts, ones(acts.cols()), true);
    assertStatsMatch(stats.get(0), x, saeOut, acts);
  }

  @Test
  void outputsCarryIdsVersionAndSourceCoordinates() {
    float[] values = ActivationBatches.values(3, 32, 7);
    ActivationBatch batch =
        ActivationBatches.builder(FIXTURE_MODEL, FIXTURE_HOOK, "seq-ids", 3, 32)
            .setStartPosition(17)
            .setDtype(Dtype.F32)
            .setData(littleEndian(values))
            .build();
    driver.send(batch);

    TestRecord<String, FeatureBatch> record = driver.features.readRecord();
    FeatureBatch f = record.value();
    assertThat(record.key()).isEqualTo("seq-ids");
    assertThat(f.getSaeId()).isEqualTo(TopologyFixture.TOPK);
    assertThat(f.getSaeVersion()).isEqualTo(3);
    assertThat(f.getDSae()).isEqualTo(128);
    assertThat(f.getModelId()).isEqualTo(FIXTURE_MODEL);
    assertThat(f.getHookName()).isEqualTo(FIXTURE_HOOK);
    assertThat(f.getStartPosition()).isEqualTo(17);
    assertThat(f.getNTokens()).isEqualTo(3);
    assertThat(f.getSourceTopic()).isEqualTo("sae.activations.v1");
    assertThat(f.getSourcePartition()).isZero();
    assertThat(f.getSourceOffset()).isZero();
    assertThat(f.getProducedAt()).isEqualTo(TopologyFixture.NOW);
    assertThat(f.getRowOffsets()).startsWith(0).isSorted();
    assertThat(f.getLatentIndices()).allSatisfy(i -> assertThat(i).isBetween(0, 127));

    ReconstructionStats s = driver.reconstruction.readValue();
    assertThat(s.getSaeVersion()).isEqualTo(3);
    assertThat(s.getStartPosition()).isEqualTo(17);
    assertThat(s.getSse()).hasSize(3);
    assertThat(s.getL0()).containsOnly(8);
    assertThat(s.getMeanL0()).isEqualTo(8.0);

    driver.features.readValuesToList();
    driver.send(ActivationBatches.f32("seq-next", 1, 32, ActivationBatches.values(1, 32, 8)));
    assertThat(driver.features.readValuesToList())
        .extracting(FeatureBatch::getSourceOffset)
        .containsOnly(1L);
  }

  @Test
  void singleTokenBatchHasUndefinedFvu() {
    driver.send(ActivationBatches.f32("seq-one", 1, 32, ActivationBatches.values(1, 32, 3)));
    assertThat(driver.reconstruction.readValuesToList())
        .extracting(ReconstructionStats::getFvu)
        .allSatisfy(fvu -> assertThat(fvu).isNaN());
  }

  @Test
  void halfPrecisionInputsGiveTheOutputsOfTheirFloat32Values() {
    Matrix x = SaeLensFixtures.expected("topk_rescale_folded", "x");
    int n = 8;
    int d = x.cols();
    short[] bf16 = new short[n * d];
    short[] f16 = new short[n * d];
    float[] bf16Values = new float[n * d];
    float[] f16Values = new float[n * d];
    for (int i = 0; i < n * d; i++) {
      bf16[i] = (short) (Float.floatToRawIntBits(x.data()[i]) >>> 16);
      bf16Values[i] = Float.intBitsToFloat(bf16[i] << 16);
      f16[i] = io.saestream.sae.checkpoint.HalfPrecision.floatToF16(x.data()[i]);
      f16Values[i] = io.saestream.sae.checkpoint.HalfPrecision.f16ToFloat(f16[i]);
    }
    driver.send(batchOf("seq-bf16", Dtype.BF16, n, d, shorts(bf16)));
    driver.send(ActivationBatches.f32("seq-bf16-as-f32", n, d, bf16Values));
    driver.send(batchOf("seq-f16", Dtype.F16, n, d, shorts(f16)));
    driver.send(ActivationBatches.f32("seq-f16-as-f32", n, d, f16Values));

    List<FeatureBatch> features = driver.features.readValuesToList();
    assertThat(features).hasSize(8);
    // Same float32 values in, same outputs out: conversion is exact.
    assertSameLatents(features.get(0), features.get(2));
    assertSameLatents(features.get(1), features.get(3));
    assertSameLatents(features.get(4), features.get(6));
    assertSameLatents(features.get(5), features.get(7));
    List<ReconstructionStats> stats = driver.reconstruction.readValuesToList();
    assertThat(stats.get(0).getSse()).isEqualTo(stats.get(2).getSse());
    assertThat(stats.get(4).getSse()).isEqualTo(stats.get(6).getSse());
  }

  @Test
  void inputHeadersReachOutputsWithoutStaleDeadLetterHeaders() {
    RecordHeaders headers = new RecordHeaders();
    headers.add("traceparent", "00-abc-def-01".getBytes(StandardCharsets.UTF_8));
    headers.add("sae.dlq.reason", "NON_FINITE_VALUES".getBytes(StandardCharsets.UTF_8));
    ActivationBatch batch =
        ActivationBatches.f32("seq-h", 2, 32, ActivationBatches.values(2, 32, 1));
    driver.sendRaw(TopologyFixture.key("seq-h"), driver.encode(batch), headers);

    TestRecord<String, FeatureBatch> record = driver.features.readRecord();
    assertThat(record.headers().lastHeader("traceparent")).isNotNull();
    assertThat(record.headers().lastHeader("sae.dlq.reason")).isNull();
  }

  // ---------------------------------------------------------------------------------------------

  private static void assertFeaturesMatch(
      FeatureBatch features, Matrix acts, double[] latentScale, boolean exactActiveSet) {
    assertThat(features.getNTokens()).isEqualTo(acts.rows());
    List<Integer> offsets = features.getRowOffsets();
    assertThat(offsets).hasSize(acts.rows() + 1);
    assertThat(features.getLatentValues()).hasSameSizeAs(features.getLatentIndices());
    for (int t = 0; t < acts.rows(); t++) {
      double[] expected = new double[acts.cols()];
      double rowMax = 0;
      for (int j = 0; j < acts.cols(); j++) {
        expected[j] = acts.get(t, j) * latentScale[j];
        rowMax = Math.max(rowMax, Math.abs(expected[j]));
      }
      double[] ours = new double[acts.cols()];
      Set<Integer> active = new HashSet<>();
      for (int p = offsets.get(t); p < offsets.get(t + 1); p++) {
        int j = features.getLatentIndices().get(p);
        assertThat(active.add(j)).as("latent %d twice in row %d", j, t).isTrue();
        ours[j] = features.getLatentValues().get(p);
      }
      double tolerance = TOLERANCE * rowMax;
      for (int j = 0; j < acts.cols(); j++) {
        assertThat(ours[j])
            .as("token %d latent %d", t, j)
            .isCloseTo(expected[j], within(tolerance));
      }
      if (exactActiveSet) {
        Set<Integer> expectedActive = new HashSet<>();
        for (int j = 0; j < acts.cols(); j++) {
          if (expected[j] != 0) {
            expectedActive.add(j);
          }
        }
        assertThat(active).as("active latents of token %d", t).isEqualTo(expectedActive);
      }
    }
  }

  private static void assertStatsMatch(
      ReconstructionStats stats, Matrix x, Matrix saeOut, Matrix acts) {
    int n = x.rows();
    int d = x.cols();
    double totalSse = 0;
    double[] mean = new double[d];
    for (int t = 0; t < n; t++) {
      for (int j = 0; j < d; j++) {
        mean[j] += x.get(t, j) / (double) n;
      }
    }
    double totalDeviation = 0;
    double totalSquares = 0;
    long totalL0 = 0;
    for (int t = 0; t < n; t++) {
      double sse = 0;
      double xx = 0;
      double yy = 0;
      double xy = 0;
      for (int j = 0; j < d; j++) {
        double xv = x.get(t, j);
        double yv = saeOut.get(t, j);
        sse += (xv - yv) * (xv - yv);
        xx += xv * xv;
        yy += yv * yv;
        xy += xv * yv;
        totalDeviation += (xv - mean[j]) * (xv - mean[j]);
      }
      int l0 = 0;
      for (int j = 0; j < acts.cols(); j++) {
        l0 += acts.get(t, j) != 0 ? 1 : 0;
      }
      totalSse += sse;
      totalSquares += xx;
      totalL0 += l0;
      double cosine = xy / (Math.max(Math.sqrt(xx), 1e-8) * Math.max(Math.sqrt(yy), 1e-8));
      assertThat((double) stats.getSse().get(t))
          .as("sse of token %d", t)
          .isCloseTo(sse, within(TOLERANCE * xx));
      assertThat((double) stats.getRelativeError().get(t))
          .as("relative error of token %d", t)
          .isCloseTo(sse / xx, within(TOLERANCE));
      assertThat((double) stats.getCosine().get(t))
          .as("cosine of token %d", t)
          .isCloseTo(cosine, within(TOLERANCE));
      assertThat(stats.getL0().get(t)).as("l0 of token %d", t).isEqualTo(l0);
    }
    double fvu = totalSse / totalDeviation;
    // Each token's SSE is within 1e-5·‖x‖², so the FVU is within 1e-5·Σ‖x‖² / Σ‖x − x̄‖².
    assertThat(stats.getFvu()).isCloseTo(fvu, within(TOLERANCE * totalSquares / totalDeviation));
    assertThat(stats.getMeanL0()).isCloseTo((double) totalL0 / n, within(1e-12));
  }

  private static void assertSameLatents(FeatureBatch a, FeatureBatch b) {
    assertThat(a.getSaeId()).isEqualTo(b.getSaeId());
    assertThat(a.getRowOffsets()).isEqualTo(b.getRowOffsets());
    assertThat(a.getLatentIndices()).isEqualTo(b.getLatentIndices());
    assertThat(a.getLatentValues()).isEqualTo(b.getLatentValues());
  }

  private static <T> T ofSae(List<T> values, Function<T, String> saeId, String wanted) {
    List<T> matching = values.stream().filter(v -> saeId.apply(v).equals(wanted)).toList();
    assertThat(matching).as("outputs of SAE %s", wanted).hasSize(1);
    return matching.get(0);
  }

  private static double[] ones(int n) {
    double[] ones = new double[n];
    java.util.Arrays.fill(ones, 1.0);
    return ones;
  }

  private static ActivationBatch batchOf(String seq, Dtype dtype, int n, int d, ByteBuffer data) {
    return ActivationBatches.builder(FIXTURE_MODEL, FIXTURE_HOOK, seq, n, d)
        .setDtype(dtype)
        .setData(data)
        .build();
  }

  private static ByteBuffer shorts(short[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (short v : values) {
      b.putShort(v);
    }
    return b.flip();
  }

  private static ByteBuffer littleEndian(float[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    return b.flip();
  }
}
