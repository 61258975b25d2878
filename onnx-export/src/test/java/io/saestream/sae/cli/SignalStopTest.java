package io.saestream.sae.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SignalStopTest {

  @Test
  void handlesSigtermWhileInstalledAndNothingAfterClose() {
    SignalStop stop = SignalStop.install(signal -> {});
    try {
      // SIGINT may be ignored by the shell that started the build (a background job), never TERM.
      assertThat(stop.handled()).contains("TERM").isSubsetOf(List.of("INT", "TERM"));
    } finally {
      stop.close();
    }
    assertThat(stop.handled()).isEmpty();
  }

  /**
   * Raises a real SIGTERM in this JVM: the callback must see it and the JVM must not start its
   * shutdown (if the handler were missing, the test JVM would exit and the build fail loudly).
   */
  @Test
  void sigtermBecomesACallbackInsteadOfAJvmShutdown() throws Exception {
    BlockingQueue<String> seen = new ArrayBlockingQueue<>(4);
    SignalStop stop = SignalStop.install(seen::add);
    try {
      assertThat(stop.handled()).contains("TERM");
      Class<?> signal = Class.forName("sun.misc.Signal");
      Method raise = signal.getMethod("raise", signal);
      raise.invoke(null, signal.getConstructor(String.class).newInstance("TERM"));

      assertThat(seen.poll(10, TimeUnit.SECONDS)).isEqualTo("SIGTERM");
      // The first signal hands TERM back to the JVM, so that a second one is not swallowed.
      assertThat(stop.handled()).doesNotContain("TERM");
    } finally {
      stop.close();
    }
  }
}
