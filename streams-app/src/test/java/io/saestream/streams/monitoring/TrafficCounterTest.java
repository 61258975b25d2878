package io.saestream.streams.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Totals and the rate over the last ten whole seconds. */
class TrafficCounterTest {

  @Test
  void countsRecordsTokensAndTheRateOverTheLastTenWholeSeconds() {
    TrafficCounter c = new TrafficCounter();
    long t = 1_000_000_000L;
    c.record(t, 100);
    c.record(t + 500, 50);
    c.record(t + 9_000, 200);
    c.record(t + 10_100, 1000);
    assertThat(c.records()).isEqualTo(4);
    assertThat(c.tokens()).isEqualTo(1350);
    // At t+10.5 s the whole seconds t .. t+9 hold 350 tokens; the current second does not count.
    assertThat(c.tokensPerSecond(t + 10_500)).isCloseTo(35.0, within(1e-12));
    // At t+11.2 s second t dropped out, second t+10 came in.
    assertThat(c.tokensPerSecond(t + 11_200)).isCloseTo(120.0, within(1e-12));
    assertThat(c.tokensPerSecond(t + 60_000)).isZero();
  }
}
