package io.saestream.schema.serde;

import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.schema.registry.SchemaRegistryException;
import io.saestream.schema.testing.InMemorySchemaRegistryClient;
import io.saestream.schema.v1.ActivationBatch;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class WireFormatErrorsTest {

  private static final String TOPIC = "sae.activations.v1";

  private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
  private final SpecificAvroDeserializer<ActivationBatch> deserializer =
      new SpecificAvroDeserializer<>(registry, ActivationBatch.class);

  @Test
  void aNonZeroFirstByteIsAnUnknownMagicByte() {
    byte[] json = "{\"model_id\":\"gpt2\"}".getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, json))
        .isInstanceOfSatisfying(
            UnknownMagicByteException.class,
            e -> {
              assertThat(e.magicByte()).isEqualTo((byte) '{');
              assertThat(e.reason()).isEqualTo(WireFormatException.Reason.UNKNOWN_MAGIC_BYTE);
            })
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("0x7b");
  }

  @Test
  void recordsShorterThanTheHeaderAreTruncated() {
    for (byte[] bytes : List.of(new byte[0], new byte[] {0}, new byte[] {0, 0, 0, 1})) {
      assertThatThrownBy(() -> deserializer.deserialize(TOPIC, bytes))
          .isInstanceOfSatisfying(
              TruncatedPayloadException.class,
              e -> {
                assertThat(e.length()).isEqualTo(bytes.length);
                assertThat(e.reason()).isEqualTo(WireFormatException.Reason.TRUNCATED_PAYLOAD);
              });
    }
  }

  @Test
  void aRecordCutInsideItsAvroBodyIsTruncated() {
    byte[] whole = validActivationBatchBytes();

    for (int length : new int[] {WireFormat.HEADER_LENGTH, whole.length / 2, whole.length - 1}) {
      byte[] cut = Arrays.copyOf(whole, length);
      assertThatThrownBy(() -> deserializer.deserialize(TOPIC, cut))
          .as("cut to %d of %d bytes", length, whole.length)
          .isInstanceOfSatisfying(
              TruncatedPayloadException.class, e -> assertThat(e.length()).isEqualTo(length));
    }
  }

  @Test
  void anIdTheRegistryDoesNotKnowIsAnUnknownSchemaId() {
    byte[] bytes = validActivationBatchBytes();
    bytes[4] = 99;

    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, bytes))
        .isInstanceOfSatisfying(
            UnknownSchemaIdException.class,
            e -> {
              assertThat(e.schemaId()).isEqualTo(99);
              assertThat(e.reason()).isEqualTo(WireFormatException.Reason.UNKNOWN_SCHEMA_ID);
              assertThat(e.getCause()).isInstanceOf(SchemaRegistryException.class);
            });
  }

  @Test
  void anotherRecordTypeIsASchemaMismatch() {
    byte[] featureBatch =
        requireNonNull(
            new SpecificAvroSerializer<>(registry, AvroSerdeConfig.forValues())
                .serialize(TOPIC, SampleRecords.featureBatch()));

    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, featureBatch))
        .isInstanceOfSatisfying(
            SchemaMismatchException.class,
            e -> {
              assertThat(e.schemaId()).isEqualTo(WireFormat.schemaIdOf(featureBatch));
              assertThat(e.reason()).isEqualTo(WireFormatException.Reason.SCHEMA_MISMATCH);
            })
        .hasMessageContaining("io.saestream.schema.v1.FeatureBatch");
  }

  @Test
  void aWriterSchemaThatIsNotARecordIsASchemaMismatch() {
    int id = registry.register("strings-value", Schema.create(Schema.Type.STRING));
    byte[] bytes = {0, 0, 0, 0, (byte) id, 2, 'a'};

    assertThatThrownBy(() -> new GenericAvroDeserializer(registry).deserialize(TOPIC, bytes))
        .isInstanceOf(SchemaMismatchException.class)
        .hasMessageContaining("STRING");
  }

  @Test
  void bytesLeftAfterTheRecordAreMalformed() {
    byte[] valid = validActivationBatchBytes();
    byte[] padded = Arrays.copyOf(valid, valid.length + 1);

    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, padded))
        .isInstanceOfSatisfying(
            MalformedPayloadException.class,
            e -> assertThat(e.reason()).isEqualTo(WireFormatException.Reason.MALFORMED_PAYLOAD))
        .hasMessageContaining("left over");
  }

  @Test
  void aNegativeStringLengthIsMalformed() {
    byte[] bytes = validActivationBatchBytes();
    bytes[WireFormat.HEADER_LENGTH] = 0x01; // zig-zag -1: the length of model_id

    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, bytes))
        .isInstanceOf(MalformedPayloadException.class)
        .hasMessageContaining("Length is negative");
  }

  @Test
  void aStringLengthBeyondAvroLimitsIsMalformed() {
    byte[] bytes = validActivationBatchBytes();
    byte[] hugeLength = {(byte) 0xfe, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f}; // 2^31 - 1
    System.arraycopy(hugeLength, 0, bytes, WireFormat.HEADER_LENGTH, hugeLength.length);

    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, bytes))
        .isInstanceOf(MalformedPayloadException.class)
        .hasMessageContaining("longer than");
  }

  @Test
  void anEnumIndexOutsideTheWriterSchemaIsMalformed() {
    // Write dtype index 3 with a schema that knows a fourth symbol, then claim the real schema.
    Schema v1 = ActivationBatch.getClassSchema();
    Schema wider = new Schema.Parser().parse(v1.toString().replace("\"BF16\"", "\"BF16\",\"F8\""));
    GenericRecord record = SchemaEvolutionTest.toGeneric(SampleRecords.activationBatch(), wider);
    record.put("dtype", new GenericData.EnumSymbol(wider.getField("dtype").schema(), "F8"));
    byte[] bytes =
        requireNonNull(
            new GenericAvroSerializer(registry, AvroSerdeConfig.forValues())
                .serialize("wide", record));
    int v1Id = registry.register(TOPIC + "-value", v1);
    bytes[4] = (byte) v1Id;

    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, bytes))
        .isInstanceOf(MalformedPayloadException.class)
        .hasMessageContaining("Enumeration out of range");
  }

  @Test
  void aRegistryOutageIsNotAWireFormatError() {
    byte[] bytes = validActivationBatchBytes();
    InMemorySchemaRegistryClient down =
        new InMemorySchemaRegistryClient() {
          @Override
          public synchronized Schema schemaById(int id) {
            throw new SchemaRegistryException("connection refused", new java.io.IOException());
          }
        };

    assertThatThrownBy(
            () ->
                new SpecificAvroDeserializer<>(down, ActivationBatch.class)
                    .deserialize(TOPIC, bytes))
        .isExactlyInstanceOf(SchemaRegistryException.class);
  }

  private byte[] validActivationBatchBytes() {
    return requireNonNull(
        new SpecificAvroSerializer<ActivationBatch>(registry, AvroSerdeConfig.forValues())
            .serialize(TOPIC, SampleRecords.activationBatch()));
  }
}
