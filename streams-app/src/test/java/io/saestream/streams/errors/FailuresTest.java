package io.saestream.streams.errors;

import static org.assertj.core.api.Assertions.assertThat;

import io.saestream.schema.registry.SchemaRegistryException;
import io.saestream.schema.serde.WireFormat;
import io.saestream.schema.serde.WireFormatException;
import io.saestream.streams.inference.InferenceException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.streams.errors.StreamsException;
import org.junit.jupiter.api.Test;

class FailuresTest {

  @Test
  void registryOutagesAreTransientInfrastructure() {
    SchemaRegistryException unreachable =
        new SchemaRegistryException("connection refused", new java.io.IOException("refused"));
    SchemaRegistryException overloaded = new SchemaRegistryException("busy", 503, 50301);
    assertThat(Failures.isInfrastructure(unreachable)).isTrue();
    assertThat(Failures.isTransient(unreachable)).isTrue();
    assertThat(Failures.isTransient(overloaded)).isTrue();
    assertThat(Failures.isTransient(new SchemaRegistryException("slow down", 429, 429))).isTrue();
  }

  @Test
  void registryRefusalsArePersistent() {
    SchemaRegistryException unauthorized = new SchemaRegistryException("no", 401, 40101);
    assertThat(Failures.isInfrastructure(unauthorized)).isTrue();
    assertThat(Failures.isTransient(unauthorized)).isFalse();
  }

  @Test
  void onnxRuntimeFailuresArePersistentInfrastructure() {
    InferenceException failure = new InferenceException("CUDA out of memory");
    assertThat(Failures.isInfrastructure(failure)).isTrue();
    assertThat(Failures.isTransient(failure)).isFalse();
  }

  @Test
  void causesAreFollowed() {
    StreamsException wrapped =
        new StreamsException("task failed", new RuntimeException(new TimeoutException("broker")));
    assertThat(Failures.isTransient(wrapped)).isTrue();
    assertThat(Failures.isInfrastructure(new RuntimeException(new InferenceException("x"))))
        .isTrue();
  }

  @Test
  void badBytesAndDefectsAreNotInfrastructure() {
    WireFormatException badBytes = catchWireFormat(new byte[] {7});
    assertThat(Failures.isInfrastructure(badBytes)).isFalse();
    assertThat(
            Failures.isInfrastructure(
                new UndecodableRecordException("bad summary", new IllegalArgumentException("x"))))
        .isFalse();
    assertThat(Failures.isInfrastructure(new NullPointerException("bug"))).isFalse();
    assertThat(Failures.isInfrastructure(new IllegalArgumentException("bug"))).isFalse();
    assertThat(Failures.isTransient(new NullPointerException("bug"))).isFalse();
  }

  @Test
  void closedComponentsAreInfrastructure() {
    assertThat(Failures.isInfrastructure(new IllegalStateException("session closed"))).isTrue();
  }

  private static WireFormatException catchWireFormat(byte[] bytes) {
    try {
      WireFormat.schemaIdOf(bytes);
    } catch (WireFormatException e) {
      return e;
    }
    throw new AssertionError("expected a WireFormatException");
  }
}
