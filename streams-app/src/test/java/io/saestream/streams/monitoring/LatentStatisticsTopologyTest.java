package io.saestream.streams.monitoring;

import static io.saestream.streams.monitoring.MonitorHarness.D_SAE;
import static io.saestream.streams.monitoring.MonitorHarness.SAE;
import static io.saestream.streams.monitoring.MonitorHarness.T0;
import static io.saestream.streams.monitoring.MonitorHarness.batch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.saestream.streams.config.MonitoringSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Per-window latent statistics and top contexts kept by the monitor node. */
class LatentStatisticsTopologyTest {

  private static final long MINUTE = 60_000;

  @TempDir Path stateDir;
  private MonitorHarness h;

  @BeforeEach
  void open() {
    MonitoringSettings s = MonitoringSettings.defaults().withEnabled(true);
    h =
        new MonitorHarness(
            stateDir,
            new MonitoringSettings(
                true,
                s.alertsTopic(),
                s.rulesTopic(),
                s.aggregatesTopic(),
                0,
                Duration.ZERO,
                s.idlePartitionTimeout(),
                null,
                s.rulesPollInterval(),
                1,
                false,
                Duration.ofMinutes(1),
                3,
                2,
                0.5,
                10));
  }

  @AfterEach
  void close() {
    h.close();
  }

  @Test
  void countsFiringsDensityMeanAndMaxPerWindow() {
    h.send(batch("s1", null, Map.of(1, 1f, 2, 4f), Map.of(1, 3f), Map.of()), T0);
    h.send(batch("s2", null, Map.of(1, 2f)), T0 + 10);
    h.send(batch("s3", null, Map.of(2, 9f)), T0 + MINUTE);

    LatentStats w0 = LatentStats.read(h.stores(), SAE, T0, T0);
    assertThat(w0.tokens()).isEqualTo(4);
    assertThat(w0.dSae()).isEqualTo(D_SAE);
    assertThat(w0.latents().get(1))
        .extracting(LatentCell::firings, LatentCell::sum, LatentCell::max)
        .containsExactly(3L, 6.0, 3.0);
    assertThat(w0.density(1)).isEqualTo(0.75, within(1e-12));
    assertThat(w0.meanActivation(1)).isEqualTo(2.0, within(1e-12));
    assertThat(w0.latents().get(2))
        .extracting(LatentCell::firings, LatentCell::sum, LatentCell::max)
        .containsExactly(1L, 4.0, 4.0);
    assertThat(w0.deadLatents()).hasSize(D_SAE - 2).doesNotContain(1, 2);
    assertThat(w0.denseLatents(0.5)).containsExactly(1);
    assertThat(w0.topFiring(1)).containsExactly(1);

    LatentStats both = LatentStats.read(h.stores(), SAE, T0, T0 + MINUTE);
    assertThat(both.tokens()).isEqualTo(5);
    assertThat(both.latents().get(2))
        .extracting(LatentCell::firings, LatentCell::sum, LatentCell::max)
        .containsExactly(2L, 13.0, 9.0);
    assertThat(LatentStats.read(h.stores(), "other-sae", T0, T0 + MINUTE).tokens()).isZero();
  }

  @Test
  void keepsOnlyTheStrongestContextsPerLatentWithTheirText() {
    h.send(batch("s1", List.of("a", "b", "c"), Map.of(), Map.of(1, 2f), Map.of()), T0);
    h.send(batch("s2", null, Map.of(1, 5f)), T0 + 1);
    h.send(batch("s3", null, Map.of(1, 1f)), T0 + 2);
    h.send(batch("s4", null, Map.of(1, 3f)), T0 + 3);
    TopContexts top = LatentStats.contexts(h.stores(), SAE, 1);
    assertThat(top.entries()).extracting(ContextEntry::sequenceId).containsExactly("s2", "s4");
    h.send(batch("s5", List.of("x", "y"), Map.of(1, 9f), Map.of()), T0 + 4);
    top = LatentStats.contexts(h.stores(), SAE, 1);
    ContextEntry best = top.entries().get(0);
    assertThat(best.sequenceId()).isEqualTo("s5");
    assertThat(best.tokens()).containsExactly("x", "y");
    assertThat(best.focusIndex()).isZero();
    assertThat(best.position()).isEqualTo(100);
    assertThat(top.entries()).hasSize(2);
  }

  @Test
  void dropsWindowsOlderThanTheRetention() {
    IntStream.range(0, 5)
        .forEach(w -> h.send(batch("s" + w, null, Map.of(1, 1f)), T0 + w * MINUTE));
    assertThat(LatentStats.read(h.stores(), SAE, T0, T0 + 4 * MINUTE).tokens())
        .as("3 windows retained")
        .isEqualTo(3);
    h.send(batch("late", null, Map.of(1, 1f)), T0);
    assertThat(LatentStats.read(h.stores(), SAE, T0, T0).tokens()).isZero();
  }

  @Test
  @SuppressWarnings({"unchecked", "rawtypes"})
  void snapshotsWindowsWithoutChangingTheirStatisticsAndNoReaderCountsADeltaTwice() {
    int width = 3 * LatentShard.SIZE;
    int batches = 2 * SaeMonitorProcessor.SNAPSHOT_EVERY + 7;
    Random random = new Random(11);
    Map<Integer, Long> firings = new TreeMap<>();
    Map<Integer, Double> sums = new TreeMap<>();
    Map<Integer, Float> maxima = new TreeMap<>();
    MapStore<BatchSummary> earlyDeltas = null;
    for (int b = 0; b < batches; b++) {
      Map<Integer, Float>[] rows = new Map[4];
      for (int t = 0; t < rows.length; t++) {
        Map<Integer, Float> row = new HashMap<>();
        while (row.size() < 3) {
          row.put(random.nextInt(width), 0.01f + 10 * random.nextFloat());
        }
        row.forEach(
            (j, v) -> {
              firings.merge(j, 1L, Long::sum);
              sums.merge(j, (double) v, Double::sum);
              maxima.merge(j, v, Math::max);
            });
        rows[t] = row;
      }
      h.send(batch("s" + b, width, null, 0.1f, 0.1f, rows), T0 + b);
      if (b == 9) {
        earlyDeltas = MapStore.copyOf(h.stores().store(MonitoringTopology.STATS_DELTAS_STORE));
      }
    }

    LatentStats w = LatentStats.read(h.stores(), SAE, T0, T0);
    assertThat(w.tokens()).isEqualTo(4L * batches);
    assertThat(w.latents().keySet()).isEqualTo(firings.keySet());
    firings.forEach(
        (j, n) -> {
          LatentCell c = java.util.Objects.requireNonNull(w.latents().get(j));
          double sum = sums.getOrDefault(j, 0.0);
          assertThat(c.firings()).isEqualTo(n);
          // Summed per batch, then per window: a different order than here, so not bit-equal.
          assertThat(c.sum()).isCloseTo(sum, within(1e-9 * sum));
          assertThat(c.max()).isEqualTo((double) maxima.getOrDefault(j, 0f));
          assertThat(c.histogram().total()).isEqualTo(n);
        });
    MonitoringStores stores = h.stores();
    ReadOnlyKeyValueStore<String, LatentShard> shards =
        stores.store(MonitoringTopology.LATENT_STATS_STORE);
    ReadOnlyKeyValueStore<String, BatchSummary> deltas =
        stores.store(MonitoringTopology.STATS_DELTAS_STORE);
    assertThat(shards.approximateNumEntries()).as("one snapshot per shard").isEqualTo(3);
    assertThat(deltas.approximateNumEntries())
        .as("deltas after the last snapshot")
        .isEqualTo(batches - 2L * SaeMonitorProcessor.SNAPSHOT_EVERY);

    // A query racing a snapshot may still see deltas the new shards include: counted once.
    Map<String, BatchSummary> both = new TreeMap<>();
    try (var it = java.util.Objects.requireNonNull(earlyDeltas).all()) {
      it.forEachRemaining(kv -> both.put(kv.key, kv.value));
    }
    try (var it = deltas.all()) {
      it.forEachRemaining(kv -> both.put(kv.key, kv.value));
    }
    MapStore<BatchSummary> racing = new MapStore<>(both);
    MonitoringStores racingStores =
        new MonitoringStores() {
          @Override
          @SuppressWarnings("unchecked")
          public <V> ReadOnlyKeyValueStore<String, V> store(String name) {
            return name.equals(MonitoringTopology.STATS_DELTAS_STORE)
                ? (ReadOnlyKeyValueStore<String, V>) racing
                : stores.store(name);
          }
        };
    assertThat(LatentStats.read(racingStores, SAE, T0, T0).latents()).isEqualTo(w.latents());

    // A restarted task folds the shards and the pending deltas back into the same statistics.
    WindowAccumulator restored =
        WindowAccumulator.load(
            shards,
            racing,
            MonitorKeys.latentStatsFrom(SAE, T0),
            MonitorKeys.latentStatsTo(SAE, T0));
    assertThat(restored.nextSequence).isEqualTo(batches);
    assertThat(restored.pending).isEqualTo(batches - 2 * SaeMonitorProcessor.SNAPSHOT_EVERY);
    for (int j = 0; j < width; j++) {
      assertThat(restored.cell(j)).as("latent %d", j).isEqualTo(w.latents().get(j));
    }
  }
}
