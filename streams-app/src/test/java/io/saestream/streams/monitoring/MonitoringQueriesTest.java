package io.saestream.streams.monitoring;

import static io.saestream.streams.monitoring.MonitorHarness.D_SAE;
import static io.saestream.streams.monitoring.MonitorHarness.SAE;
import static io.saestream.streams.monitoring.MonitorHarness.T0;
import static io.saestream.streams.monitoring.MonitorHarness.batch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The query facade over the per-SAE stores, fed through the whole monitoring topology. */
class MonitoringQueriesTest {

  private static final long MINUTE = 60_000;

  @TempDir Path stateDir;
  private MonitorHarness h;
  private MonitoringQueries q;

  @BeforeEach
  void open() {
    h = new MonitorHarness(stateDir);
    q = new MonitoringQueries(h.settings, h.stores());
    // Window 0: 4 tokens, fvu 0.2, relative error 0.1; latent 1 on 3 tokens, latent 2 on 1.
    h.send(
        batch(
            "s1",
            List.of("a", "b", "c"),
            0.2f,
            0.1f,
            Map.of(1, 1f, 2, 4f),
            Map.of(1, 3f),
            Map.of()),
        T0);
    h.send(batch("s2", null, 0.2f, 0.1f, Map.of(1, 2f)), T0 + 10);
    // Window 1: 2 tokens, fvu 0.6; latent 2 on both, latent 7 once with 300 (beyond the bins).
    h.send(batch("s3", null, 0.6f, 0.3f, Map.of(2, 0.5f, 7, 300f), Map.of(2, 9f)), T0 + MINUTE);
  }

  @AfterEach
  void close() {
    h.close();
  }

  @Test
  void windowsListTheNewestWindowsOldestFirstWithErrorsL0AndLatentCounts() {
    MonitoringQueries.SaeWindows w = q.windows(SAE, 60);
    assertThat(w.saeId()).isEqualTo(SAE);
    assertThat(w.windowMs()).isEqualTo(MINUTE);
    assertThat(w.windows())
        .extracting(MonitoringQueries.WindowRow::windowStart)
        .containsExactly(T0, T0 + MINUTE);
    MonitoringQueries.WindowRow w0 = w.windows().get(0);
    assertThat(w0.tokens()).isEqualTo(4);
    assertThat(w0.fvu()).isCloseTo(0.2, within(1e-6));
    assertThat(w0.meanRelativeError()).isCloseTo(0.1, within(1e-6));
    // L0 per token: 2, 1, 0, 1.
    assertThat(w0.meanL0()).isCloseTo(1.0, within(1e-12));
    assertThat(w0.firingLatents()).isEqualTo(2);
    assertThat(w0.deadLatents()).isEqualTo(D_SAE - 2);
    assertThat(w0.denseLatents()).as("frozen when window 1 began (grace 0)").isEqualTo(2);
    assertThat(q.windows(SAE, 1).windows())
        .extracting(MonitoringQueries.WindowRow::windowStart)
        .containsExactly(T0 + MINUTE);
    assertThat(q.windows("unknown", 5).windows()).isEmpty();
  }

  @Test
  void topLatentsOfTheLatestOrAGivenWindowMostFiringFirstWithTheirBestContext() {
    MonitoringQueries.TopLatents latest = q.topLatents(SAE, null, 20);
    assertThat(latest.windowStart()).isEqualTo(T0 + MINUTE);
    assertThat(latest.tokens()).isEqualTo(2);
    assertThat(latest.latents())
        .extracting(MonitoringQueries.LatentRow::latent)
        .containsExactly(2, 7);

    MonitoringQueries.TopLatents w0 = q.topLatents(SAE, T0 + 5, 1);
    assertThat(w0.windowStart()).as("any time inside the window names it").isEqualTo(T0);
    MonitoringQueries.LatentRow top = w0.latents().get(0);
    assertThat(top.latent()).isEqualTo(1);
    assertThat(top.firings()).isEqualTo(3);
    assertThat(top.density()).isCloseTo(0.75, within(1e-12));
    assertThat(top.meanActivation()).isCloseTo(2.0, within(1e-12));
    assertThat(top.maxActivation()).isCloseTo(3.0, within(1e-12));
    MonitoringQueries.ContextView context = java.util.Objects.requireNonNull(top.topContext());
    assertThat(context.sequenceId()).isEqualTo("s1");
    assertThat(context.position()).isEqualTo(101);
    assertThat(context.tokens()).containsExactly("a", "b", "c");
    assertThat(context.highlight()).isEqualTo(1);
    assertThat(context.windowStart()).isEqualTo(T0);

    assertThat(q.topLatents("unknown", null, 5).windowStart()).isNull();
    assertThat(q.topLatents(SAE, T0 + 9 * MINUTE, 5).latents()).isEmpty();
  }

  @Test
  void latentDetailHasEveryWindowItsHistogramAndContexts() {
    MonitoringQueries.LatentDetail d = q.latent(SAE, 2, 30);
    assertThat(d.windows())
        .extracting(MonitoringQueries.LatentWindowRow::firings)
        .containsExactly(1L, 2L);
    assertThat(d.windows().get(1).meanActivation()).isCloseTo(4.75, within(1e-12));
    List<Double> edges = d.histogram().edges();
    List<Long> counts = d.histogram().counts();
    assertThat(edges).hasSize(counts.size() + 1).startsWith(0.0).endsWith(256.0);
    assertThat(counts.stream().mapToLong(Long::longValue).sum()).isEqualTo(3);
    assertThat(counts.get(ActivationHistogram.bin(0.5))).isEqualTo(1);
    assertThat(counts.get(ActivationHistogram.bin(4))).isEqualTo(1);
    assertThat(counts.get(ActivationHistogram.bin(9))).isEqualTo(1);
    assertThat(d.contexts())
        .extracting(MonitoringQueries.ContextView::activation)
        .containsExactly(9.0, 4.0);

    MonitoringQueries.LatentDetail beyond = q.latent(SAE, 7, 30);
    assertThat(beyond.histogram().counts().get(ActivationHistogram.BINS - 1))
        .as("300 is counted in the last bin")
        .isEqualTo(1);
    assertThat(beyond.windows())
        .extracting(MonitoringQueries.LatentWindowRow::firings)
        .containsExactly(0L, 1L);

    MonitoringQueries.LatentDetail silent = q.latent(SAE, 9, 1);
    assertThat(silent.windows()).hasSize(1);
    assertThat(silent.contexts()).isEmpty();
    assertThat(silent.histogram().counts()).containsOnly(0L);
  }

  @Test
  void rejectsLimitsBelowOneAndNegativeLatents() {
    assertThatThrownBy(() -> q.windows(SAE, 0)).hasMessage("limit must be >= 1, was 0");
    assertThatThrownBy(() -> q.topLatents(SAE, null, -1)).hasMessage("limit must be >= 1, was -1");
    assertThatThrownBy(() -> q.latent(SAE, -1, 3)).hasMessage("latent must be >= 0, was -1");
    assertThatThrownBy(() -> q.latent(SAE, 1, 0)).hasMessage("windows must be >= 1, was 0");
  }
}
