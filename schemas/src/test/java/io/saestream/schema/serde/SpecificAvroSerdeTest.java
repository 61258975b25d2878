package io.saestream.schema.serde;

import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Named.named;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.saestream.schema.registry.SchemaRegistryException;
import io.saestream.schema.testing.InMemorySchemaRegistryClient;
import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.FeatureBatch;
import io.saestream.schema.v1.TokenContext;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.util.ClassSecurityValidator;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SpecificAvroSerdeTest {

  private static final String TOPIC = "sae.activations.v1";

  private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();

  static Stream<Arguments> everyWireRecordType() {
    return Stream.of(
        arguments(named("ActivationBatch", SampleRecords.activationBatch())),
        arguments(named("FeatureBatch", SampleRecords.featureBatch())),
        arguments(named("ReconstructionStats", SampleRecords.reconstructionStats())),
        arguments(named("FeatureAlert", SampleRecords.featureAlert())),
        arguments(named("SaeCheckpoint", SampleRecords.saeCheckpoint())),
        arguments(named("SaeCheckpointChunk", SampleRecords.saeCheckpointChunk())));
  }

  @ParameterizedTest
  @MethodSource("everyWireRecordType")
  void everyWireRecordTypeRoundTripsUnchanged(SpecificRecord record) {
    assertThat(roundTrip(record)).isEqualTo(record);
  }

  @Test
  void roundTripKeepsBytesLogicalTypesNullsAndMaps() {
    ActivationBatch original =
        ActivationBatch.newBuilder(SampleRecords.activationBatch())
            .clearTokenIds()
            .clearTokens()
            .setAttributes(Map.of())
            .build();

    ActivationBatch copy = roundTrip(original);

    assertThat(copy.getProducedAt()).isEqualTo(SampleRecords.PRODUCED_AT);
    assertThat(copy.getTokenIds()).isNull();
    assertThat(copy.getTokens()).isNull();
    assertThat(copy.getAttributes()).isEmpty();
    assertThat(bytesOf(copy.getData())).isEqualTo(bytesOf(original.getData()));
    assertThat(copy.getDtype()).isEqualTo(original.getDtype());
  }

  @Test
  void headerIsMagicByteThenBigEndianIdOfTheTopicValueSubject() {
    FeatureBatch record = SampleRecords.featureBatch();
    // Occupy ids 1 and 2 so that the id under test is not a lucky default.
    registry.register("other-value", SampleRecords.activationBatch().getSchema());
    registry.register("other-value", SampleRecords.saeCheckpoint().getSchema());

    byte[] bytes = serialize(serializer(AvroSerdeConfig.forValues()), "sae.features.v1", record);

    int id = registry.lookup("sae.features.v1-value", record.getSchema()).id();
    assertThat(id).isEqualTo(3);
    assertThat(Arrays.copyOf(bytes, 5)).containsExactly(0, 0, 0, 0, 3);
    assertThat(WireFormat.schemaIdOf(bytes)).isEqualTo(id);
  }

  @Test
  void keySerializerRegistersUnderTheTopicKeySubject() {
    ActivationBatch record = SampleRecords.activationBatch();

    byte[] bytes = serialize(serializer(AvroSerdeConfig.forKeys()), TOPIC, record);

    assertThat(WireFormat.schemaIdOf(bytes))
        .isEqualTo(registry.lookup(TOPIC + "-key", record.getSchema()).id());
    assertThatThrownBy(() -> registry.lookup(TOPIC + "-value", record.getSchema()))
        .isInstanceOf(SchemaRegistryException.class);
  }

  @Test
  void configureRejectsAKeyValueMismatch() {
    SpecificAvroSerializer<ActivationBatch> valueSerializer =
        serializer(AvroSerdeConfig.forValues());

    valueSerializer.configure(Map.of(), false);
    assertThatThrownBy(() -> valueSerializer.configure(Map.of(), true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("AvroSerdeConfig.forKeys()");
  }

  @Test
  void nullIsATombstoneBothWays() {
    assertThat(serializer(AvroSerdeConfig.forValues()).serialize(TOPIC, null)).isNull();
    assertThat(deserializer(ActivationBatch.class).deserialize(TOPIC, null)).isNull();
    assertThat(registry.registerCalls()).isEqualTo(0);
  }

  @Test
  void schemaIdIsResolvedOncePerTopicAndSchema() {
    SpecificAvroSerializer<ActivationBatch> serializer = serializer(AvroSerdeConfig.forValues());
    SpecificAvroDeserializer<ActivationBatch> deserializer = deserializer(ActivationBatch.class);

    for (int i = 0; i < 5; i++) {
      deserializer.deserialize(TOPIC, serializer.serialize(TOPIC, SampleRecords.activationBatch()));
    }
    serializer.serialize("another.topic", SampleRecords.activationBatch());

    assertThat(registry.registerCalls()).isEqualTo(2);
    assertThat(registry.schemaByIdCalls()).isEqualTo(1);
  }

  @Test
  void withoutAutoRegistrationAnUnregisteredSchemaFailsWithTheRegistryError() {
    SpecificAvroSerializer<ActivationBatch> serializer =
        serializer(AvroSerdeConfig.forValues().withAutoRegisterSchemas(false));

    assertThatThrownBy(() -> serializer.serialize(TOPIC, SampleRecords.activationBatch()))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> assertThat(e.errorCode()).isEqualTo(SchemaRegistryException.SUBJECT_NOT_FOUND));
    assertThat(registry.registerCalls()).isEqualTo(0);
  }

  @Test
  void withoutAutoRegistrationAPreRegisteredSchemaIsLookedUp() {
    int id = registry.register(TOPIC + "-value", ActivationBatch.getClassSchema());
    SpecificAvroSerializer<ActivationBatch> serializer =
        serializer(AvroSerdeConfig.forValues().withAutoRegisterSchemas(false));

    byte[] bytes = serialize(serializer, TOPIC, SampleRecords.activationBatch());
    serializer.serialize(TOPIC, SampleRecords.activationBatch());

    assertThat(WireFormat.schemaIdOf(bytes)).isEqualTo(id);
    assertThat(registry.registerCalls()).isEqualTo(1);
    assertThat(registry.lookupCalls()).isEqualTo(1);
  }

  @Test
  void aRecordThatDoesNotFitItsSchemaFailsAsASerializationError() {
    GenericRecord incomplete = new GenericData.Record(ActivationBatch.getClassSchema());
    incomplete.put("model_id", "gpt2-small");
    GenericAvroSerializer serializer =
        new GenericAvroSerializer(registry, AvroSerdeConfig.forValues());

    assertThatThrownBy(() -> serializer.serialize(TOPIC, incomplete))
        .isExactlyInstanceOf(SerializationException.class)
        .hasMessageContaining("io.saestream.schema.v1.ActivationBatch")
        .hasMessageContaining(TOPIC);
  }

  @Test
  void serdeBundlesTheSerializerAndDeserializerOfOneType() {
    SpecificAvroSerde<FeatureBatch> serde =
        new SpecificAvroSerde<>(registry, FeatureBatch.class, AvroSerdeConfig.forValues());
    serde.configure(Map.of(), false);

    byte[] bytes = serialize(serde.serializer(), "sae.features.v1", SampleRecords.featureBatch());

    assertThat(serde.deserializer().deserialize("sae.features.v1", bytes))
        .isEqualTo(SampleRecords.featureBatch());
  }

  @Test
  void deserializerRejectsATypeThatIsNotAGeneratedRecordClass() {
    assertThatThrownBy(() -> new SpecificAvroDeserializer<>(registry, SpecificRecord.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("generated Avro record class");
  }

  @Test
  void deserializerFailsAtConstructionWhenAvroDoesNotTrustTheRecordPackage() {
    ClassSecurityValidator.ClassSecurityPredicate trusted = ClassSecurityValidator.getGlobal();
    ClassSecurityValidator.setGlobal(ClassSecurityValidator.DEFAULT_TRUSTED_CLASSES);
    try {
      // TokenContext: a class whose own Avro model has not cached its class in this JVM yet.
      assertThatThrownBy(() -> new SpecificAvroDeserializer<>(registry, TokenContext.class))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("-Dorg.apache.avro.SERIALIZABLE_PACKAGES=io.saestream.schema.v1");
    } finally {
      ClassSecurityValidator.setGlobal(trusted);
    }
  }

  private <T extends SpecificRecord> T roundTrip(T record) {
    @SuppressWarnings("unchecked")
    Class<T> type = (Class<T>) record.getClass();
    String topic = "topic-" + type.getSimpleName();
    byte[] bytes = serialize(serializer(AvroSerdeConfig.forValues()), topic, record);
    assertThat(bytes[0]).isEqualTo(WireFormat.MAGIC_BYTE);
    return requireNonNull(deserializer(type).deserialize(topic, bytes));
  }

  private static <T> byte[] serialize(Serializer<T> serializer, String topic, T record) {
    return requireNonNull(serializer.serialize(topic, record));
  }

  private <T extends SpecificRecord> SpecificAvroSerializer<T> serializer(AvroSerdeConfig config) {
    return new SpecificAvroSerializer<>(registry, config);
  }

  private <T extends SpecificRecord> SpecificAvroDeserializer<T> deserializer(Class<T> type) {
    return new SpecificAvroDeserializer<>(registry, type);
  }

  private static byte[] bytesOf(ByteBuffer buffer) {
    byte[] bytes = new byte[buffer.remaining()];
    buffer.duplicate().get(bytes);
    return bytes;
  }
}
