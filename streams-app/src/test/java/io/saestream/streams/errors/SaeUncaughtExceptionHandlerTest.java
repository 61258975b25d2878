package io.saestream.streams.errors;

import static org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
import static org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.schema.registry.SchemaRegistryException;
import io.saestream.streams.inference.InferenceException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.streams.errors.StreamsException;
import org.junit.jupiter.api.Test;

class SaeUncaughtExceptionHandlerTest {

  private final AtomicLong now = new AtomicLong();
  private final SaeUncaughtExceptionHandler handler =
      new SaeUncaughtExceptionHandler(2, Duration.ofMinutes(1), now::get);

  private static StreamsException registryDown() {
    return new StreamsException(
        new SchemaRegistryException("unreachable", new java.io.IOException("refused")));
  }

  @Test
  void transientFailuresReplaceTheThreadUpToTheBudget() {
    assertThat(handler.handle(registryDown())).isEqualTo(REPLACE_THREAD);
    assertThat(handler.handle(registryDown())).isEqualTo(REPLACE_THREAD);
    assertThat(handler.handle(registryDown())).isEqualTo(SHUTDOWN_CLIENT);
  }

  @Test
  void theBudgetRefillsAfterTheWindow() {
    handler.handle(registryDown());
    handler.handle(registryDown());
    now.addAndGet(Duration.ofMinutes(1).plusSeconds(1).toNanos());
    assertThat(handler.handle(registryDown())).isEqualTo(REPLACE_THREAD);
  }

  @Test
  void persistentFailuresShutTheClientDown() {
    assertThat(handler.handle(new StreamsException(new InferenceException("CUDA error"))))
        .isEqualTo(SHUTDOWN_CLIENT);
    assertThat(handler.handle(new NullPointerException())).isEqualTo(SHUTDOWN_CLIENT);
  }

  @Test
  void invalidBudgetsAreRefused() {
    assertThatThrownBy(() -> new SaeUncaughtExceptionHandler(-1, Duration.ofMinutes(1), now::get))
        .hasMessage("maxReplacements must be >= 0, was -1");
    assertThatThrownBy(() -> new SaeUncaughtExceptionHandler(1, Duration.ZERO, now::get))
        .hasMessage("window must be > 0, was PT0S");
  }
}
