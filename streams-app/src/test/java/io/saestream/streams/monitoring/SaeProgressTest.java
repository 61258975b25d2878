package io.saestream.streams.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The per-SAE watermark over input partitions: lagging, idle, restarted. */
class SaeProgressTest {

  private static final long IDLE = 30_000;

  @Test
  void isTheSlowestActivePartitionAndNeverGoesBack() {
    SaeProgress p = new SaeProgress();
    assertThat(p.advanceWatermark(0, IDLE, 0)).isEqualTo(Long.MIN_VALUE);
    p.observe(0, 1_000, 0);
    p.observe(1, 500, 0);
    assertThat(p.advanceWatermark(0, IDLE, 0)).isEqualTo(500);
    p.observe(1, 5_000, 10);
    assertThat(p.advanceWatermark(10, IDLE, 0)).isEqualTo(1_000);
    p.observe(2, 100, 20);
    assertThat(p.advanceWatermark(20, IDLE, 0))
        .as("a late newcomer does not pull it back")
        .isEqualTo(1_000);
  }

  @Test
  void idlePartitionsStopHoldingItAndARestartGivesEveryKnownPartitionTheTimeoutAgain() {
    SaeProgress p = new SaeProgress();
    p.observe(0, 1_000, 0);
    p.observe(1, 9_000, 0);
    assertThat(p.advanceWatermark(0, IDLE, 0)).isEqualTo(1_000);
    p.observe(1, 10_000, IDLE + 1);
    assertThat(p.advanceWatermark(IDLE + 1, IDLE, 0)).as("partition 0 is idle").isEqualTo(10_000);

    SaeProgress restored = new SaeProgress();
    restored.observe(0, 20_000, 0);
    restored.observe(1, 20_000, 0);
    long restart = 3_600_000;
    restored.observe(1, 90_000, restart);
    assertThat(restored.advanceWatermark(restart, IDLE, restart))
        .as("partition 0, silent for an hour of downtime, gets the timeout to catch up")
        .isEqualTo(20_000);
    restored.observe(1, 95_000, restart + IDLE + 1);
    assertThat(restored.advanceWatermark(restart + IDLE + 1, IDLE, restart)).isEqualTo(95_000);
  }
}
