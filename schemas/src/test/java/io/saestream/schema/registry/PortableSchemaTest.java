package io.saestream.schema.registry;

import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;

import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.FeatureAlert;
import io.saestream.schema.v1.FeatureBatch;
import io.saestream.schema.v1.ReconstructionStats;
import io.saestream.schema.v1.SaeCheckpoint;
import io.saestream.schema.v1.SaeCheckpointChunk;
import java.io.IOException;
import java.io.InputStream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PortableSchemaTest {

  @ParameterizedTest
  @ValueSource(
      classes = {
        ActivationBatch.class,
        FeatureBatch.class,
        ReconstructionStats.class,
        FeatureAlert.class,
        SaeCheckpoint.class,
        SaeCheckpointChunk.class
      })
  void theGeneratedClassSchemaBecomesTheAvscItWasGeneratedFrom(Class<?> type) throws Exception {
    Schema generated = (Schema) type.getMethod("getClassSchema").invoke(null);

    Schema portable = PortableSchema.of(generated);

    assertThat(generated.toString()).contains("avro.java.string");
    assertThat(portable.toString())
        .isEqualTo(avsc(type).toString())
        .doesNotContain("avro.java.string");
  }

  @Test
  void aSchemaWithoutJavaPropertiesIsReturnedAsIs() {
    Schema plain = SchemaBuilder.record("R").fields().requiredString("s").endRecord();

    assertThat(PortableSchema.of(plain)).isSameAs(plain);
  }

  private static Schema avsc(Class<?> type) throws IOException {
    try (InputStream file =
        requireNonNull(type.getResourceAsStream(type.getSimpleName() + ".avsc"), "packaged avsc")) {
      return new Schema.Parser().parse(file);
    }
  }
}
