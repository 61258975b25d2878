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
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
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
}
