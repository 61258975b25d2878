package io.saestream.schema.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.schema.registry.CompatibilityLevel;
import io.saestream.schema.registry.RegisteredSchema;
import io.saestream.schema.registry.SchemaRegistryException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.Test;

class InMemorySchemaRegistryClientTest {

  private static final Schema A = SchemaBuilder.record("A").fields().requiredInt("x").endRecord();
  private static final Schema B = SchemaBuilder.record("B").fields().requiredLong("y").endRecord();

  private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();

  @Test
  void idsAreGlobalPerSchemaAndVersionsPerSubject() {
    assertThat(registry.register("s", A)).isEqualTo(1);
    assertThat(registry.register("t", A)).isEqualTo(1);
    assertThat(registry.register("s", B)).isEqualTo(2);
    assertThat(registry.register("s", A)).isEqualTo(1);

    assertThat(registry.subjects()).containsExactly("s", "t");
    assertThat(registry.lookup("s", B)).isEqualTo(new RegisteredSchema("s", 2, 2, B));
    assertThat(registry.latest("s")).isEqualTo(new RegisteredSchema("s", 2, 2, B));
    assertThat(registry.latest("t")).isEqualTo(new RegisteredSchema("t", 1, 1, A));
    assertThat(registry.schemaById(2)).isEqualTo(B);
    assertThat(registry.registerCalls()).isEqualTo(4);
    assertThat(registry.lookupCalls()).isEqualTo(1);
    assertThat(registry.schemaByIdCalls()).isEqualTo(1);
  }

  @Test
  void whatIsMissingFailsWithConfluentsErrorCodes() {
    registry.register("s", A);

    assertThatThrownBy(() -> registry.lookup("unknown", A))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> assertThat(e.errorCode()).isEqualTo(SchemaRegistryException.SUBJECT_NOT_FOUND));
    assertThatThrownBy(() -> registry.latest("unknown"))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> assertThat(e.errorCode()).isEqualTo(SchemaRegistryException.SUBJECT_NOT_FOUND));
    assertThatThrownBy(() -> registry.lookup("s", B))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> assertThat(e.errorCode()).isEqualTo(SchemaRegistryException.SCHEMA_NOT_FOUND));
    assertThatThrownBy(() -> registry.schemaById(7))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> assertThat(e.errorCode()).isEqualTo(SchemaRegistryException.SCHEMA_NOT_FOUND));
  }

  @Test
  void compatibilityIsRecordedButNeverChecked() {
    assertThat(registry.compatibility("s")).isEqualTo(CompatibilityLevel.BACKWARD);

    assertThat(registry.updateCompatibility("s", CompatibilityLevel.FULL))
        .isEqualTo(CompatibilityLevel.FULL);

    assertThat(registry.compatibility("s")).isEqualTo(CompatibilityLevel.FULL);
    assertThat(registry.compatibility("t")).isEqualTo(CompatibilityLevel.BACKWARD);
    assertThat(registry.isCompatible("s", B)).isTrue();
  }
}
