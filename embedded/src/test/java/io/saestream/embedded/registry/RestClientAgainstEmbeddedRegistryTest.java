package io.saestream.embedded.registry;

import static io.saestream.embedded.registry.ProbeSchemas.ADDS_REQUIRED_FIELD;
import static io.saestream.embedded.registry.ProbeSchemas.V1;
import static io.saestream.embedded.registry.ProbeSchemas.V2_ADDS_DEFAULTED_FIELD;
import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.schema.registry.CompatibilityLevel;
import io.saestream.schema.registry.RegisteredSchema;
import io.saestream.schema.registry.RestSchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryClientConfig;
import io.saestream.schema.registry.SchemaRegistryException;
import io.saestream.schema.serde.AvroSerdeConfig;
import io.saestream.schema.serde.SpecificAvroSerde;
import io.saestream.schema.serde.UnknownSchemaIdException;
import io.saestream.schema.serde.WireFormat;
import io.saestream.schema.v1.FeatureBatch;
import java.io.InputStream;
import java.time.Instant;
import java.util.List;
import org.apache.avro.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The project's registry client and serdes against the embedded registry, over real HTTP. */
class RestClientAgainstEmbeddedRegistryTest {

  private final EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.start();
  private final RestSchemaRegistryClient client =
      new RestSchemaRegistryClient(SchemaRegistryClientConfig.of(registry.url().toString()));

  @AfterEach
  void stop() {
    registry.close();
  }

  @Test
  void registerLookupLatestAndSchemaByIdAgree() {
    int id = client.register("a-value", V1);
    int next = client.register("a-value", V2_ADDS_DEFAULTED_FIELD);

    assertThat(id).isEqualTo(1);
    assertThat(next).isEqualTo(2);
    assertThat(client.lookup("a-value", V1)).isEqualTo(new RegisteredSchema("a-value", 1, 1, V1));
    assertThat(client.latest("a-value"))
        .isEqualTo(new RegisteredSchema("a-value", 2, 2, V2_ADDS_DEFAULTED_FIELD));
    assertThat(freshClient().schemaById(2)).isEqualTo(V2_ADDS_DEFAULTED_FIELD);
  }

  @Test
  void registryErrorsKeepTheirConfluentCodes() {
    client.register("a-value", V1);

    assertThatThrownBy(() -> client.lookup("nope", V1))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> {
              assertThat(e.httpStatus()).isEqualTo(404);
              assertThat(e.errorCode()).isEqualTo(SchemaRegistryException.SUBJECT_NOT_FOUND);
            });
    assertThatThrownBy(() -> client.lookup("a-value", V2_ADDS_DEFAULTED_FIELD))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> assertThat(e.errorCode()).isEqualTo(SchemaRegistryException.SCHEMA_NOT_FOUND));
    assertThatThrownBy(() -> client.schemaById(42))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> assertThat(e.errorCode()).isEqualTo(SchemaRegistryException.SCHEMA_NOT_FOUND));
    assertThatThrownBy(() -> client.register("a-value", ADDS_REQUIRED_FIELD))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> {
              assertThat(e.httpStatus()).isEqualTo(409);
              assertThat(e.errorCode()).isEqualTo(SchemaRegistryException.INCOMPATIBLE_SCHEMA);
            })
        .hasMessageContaining("incompatible");
    assertThatThrownBy(() -> client.latest("nope"))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> assertThat(e.errorCode()).isEqualTo(SchemaRegistryException.SUBJECT_NOT_FOUND));
  }

  @Test
  void compatibilityIsTestedAndConfigured() {
    client.register("a-value", V1);

    assertThat(client.isCompatible("a-value", V2_ADDS_DEFAULTED_FIELD)).isTrue();
    assertThat(client.isCompatible("a-value", ADDS_REQUIRED_FIELD)).isFalse();
    assertThat(client.compatibility("a-value")).isEqualTo(CompatibilityLevel.BACKWARD);

    assertThat(client.updateCompatibility("a-value", CompatibilityLevel.NONE))
        .isEqualTo(CompatibilityLevel.NONE);
    assertThat(client.compatibility("a-value")).isEqualTo(CompatibilityLevel.NONE);
    assertThat(client.isCompatible("a-value", ADDS_REQUIRED_FIELD)).isTrue();
    assertThat(client.register("a-value", ADDS_REQUIRED_FIELD)).isEqualTo(2);
  }

  @Test
  void aGeneratedClassAndItsAvscFileAreOneSchemaWithOneId() throws Exception {
    Schema avsc;
    try (InputStream file =
        requireNonNull(FeatureBatch.class.getResourceAsStream("FeatureBatch.avsc"))) {
      avsc = new Schema.Parser().parse(file);
    }

    int fromAvsc = client.register("sae.features.v1-value", avsc);
    int fromClass = freshClient().register("sae.features.v1-value", FeatureBatch.getClassSchema());

    assertThat(fromClass).isEqualTo(fromAvsc);
    assertThat(client.latest("sae.features.v1-value").version()).isEqualTo(1);
  }

  @Test
  void theClientAsksTheRegistryOnlyForWhatItHasNotSeen() {
    long start = registry.requestCount();

    int id = client.register("a-value", V1);
    for (int i = 0; i < 3; i++) {
      assertThat(client.register("a-value", V1)).isEqualTo(id);
      assertThat(client.schemaById(id)).isEqualTo(V1);
      assertThat(client.lookup("a-value", V1).version()).isEqualTo(1);
    }
    assertThat(registry.requestCount() - start).isEqualTo(2); // one register, one lookup

    client.latest("a-value");
    client.latest("a-value");
    assertThat(registry.requestCount() - start).isEqualTo(4); // latest is never cached
  }

  @Test
  void serdeRoundTripsThroughTheRegistryAndCachesTheId() {
    SpecificAvroSerde<FeatureBatch> serde =
        new SpecificAvroSerde<>(client, FeatureBatch.class, AvroSerdeConfig.forValues());
    FeatureBatch batch = featureBatch();

    byte[] first = requireNonNull(serde.serializer().serialize("sae.features.v1", batch));
    long afterFirst = registry.requestCount();
    byte[] second = requireNonNull(serde.serializer().serialize("sae.features.v1", batch));
    FeatureBatch read =
        new SpecificAvroSerde<>(freshClient(), FeatureBatch.class, AvroSerdeConfig.forValues())
            .deserializer()
            .deserialize("sae.features.v1", second);

    assertThat(second).isEqualTo(first);
    assertThat(read).isEqualTo(batch);
    assertThat(WireFormat.schemaIdOf(first))
        .isEqualTo(client.lookup("sae.features.v1-value", FeatureBatch.getClassSchema()).id());
    assertThat(registry.requestCount())
        .isEqualTo(afterFirst + 2); // the fresh client's GET + lookup
  }

  @Test
  void anIdUnknownToTheRegistryIsAnUnknownSchemaIdForTheDeserializer() {
    byte[] bytes =
        requireNonNull(
            new SpecificAvroSerde<>(client, FeatureBatch.class, AvroSerdeConfig.forValues())
                .serializer()
                .serialize("sae.features.v1", featureBatch()));
    bytes[4] = 77;

    assertThatThrownBy(
            () ->
                new SpecificAvroSerde<>(client, FeatureBatch.class, AvroSerdeConfig.forValues())
                    .deserializer()
                    .deserialize("sae.features.v1", bytes))
        .isInstanceOfSatisfying(
            UnknownSchemaIdException.class, e -> assertThat(e.schemaId()).isEqualTo(77));
  }

  private RestSchemaRegistryClient freshClient() {
    return new RestSchemaRegistryClient(SchemaRegistryClientConfig.of(registry.url().toString()));
  }

  static FeatureBatch featureBatch() {
    return FeatureBatch.newBuilder()
        .setModelId("gpt2-small")
        .setHookName("blocks.8.hook_resid_pre")
        .setSequenceId("seq-7")
        .setStartPosition(0)
        .setNTokens(2)
        .setSaeId("gpt2-small-res-jb-8")
        .setSaeVersion(12L)
        .setDSae(24576)
        .setRowOffsets(List.of(0, 2, 3))
        .setLatentIndices(List.of(5, 24575, 17))
        .setLatentValues(List.of(1.25f, 0.5f, 3.0f))
        .setSourceTopic("sae.activations.v1")
        .setSourcePartition(1)
        .setSourceOffset(12_345L)
        .setProducedAt(Instant.ofEpochMilli(1_767_225_600_000L))
        .build();
  }
}
