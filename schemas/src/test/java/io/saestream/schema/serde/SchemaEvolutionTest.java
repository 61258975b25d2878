package io.saestream.schema.serde;

import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.schema.testing.InMemorySchemaRegistryClient;
import io.saestream.schema.v1.ActivationBatch;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

/** Records written with one version of a schema are read with another (Avro resolution). */
class SchemaEvolutionTest {

  private static final String TOPIC = "sae.activations.v1";

  private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();

  @Test
  void anOldReaderReadsRecordsOfANewerWriterThatAddedADefaultedField() {
    Schema v2 = withField(ActivationBatch.getClassSchema(), "priority", 0);
    GenericRecord written = toGeneric(SampleRecords.activationBatch(), v2);
    written.put("priority", 7);

    byte[] bytes =
        requireNonNull(
            new GenericAvroSerializer(registry, AvroSerdeConfig.forValues())
                .serialize(TOPIC, written));
    ActivationBatch read =
        new SpecificAvroDeserializer<>(registry, ActivationBatch.class).deserialize(TOPIC, bytes);

    assertThat(WireFormat.schemaIdOf(bytes)).isEqualTo(registry.lookup(TOPIC + "-value", v2).id());
    assertThat(read).isEqualTo(SampleRecords.activationBatch());
  }

  @Test
  void aNewReaderFillsTheDefaultOfItsAddedFieldForRecordsOfAnOldWriter() {
    Schema v2 = withField(ActivationBatch.getClassSchema(), "priority", 5);
    byte[] bytes = writeWithGeneratedV1();

    GenericRecord read =
        requireNonNull(new GenericAvroDeserializer(registry, v2).deserialize(TOPIC, bytes));

    assertThat(read.getSchema()).isEqualTo(v2);
    assertThat(read.get("priority")).isEqualTo(5);
    assertThat(read.get("sequence_id")).hasToString("seq-42");
    assertThat(read.get("produced_at")).isEqualTo(SampleRecords.PRODUCED_AT.toEpochMilli());
  }

  @Test
  void aNewReaderWithARequiredAddedFieldCannotReadAnOldWriter() {
    Schema v1 = ActivationBatch.getClassSchema();
    List<Schema.Field> fields = copyFields(v1);
    fields.add(new Schema.Field("priority", Schema.create(Schema.Type.INT), "no default", null));
    Schema incompatible =
        Schema.createRecord(v1.getName(), v1.getDoc(), v1.getNamespace(), false, fields);
    byte[] bytes = writeWithGeneratedV1();

    assertThatThrownBy(
            () -> new GenericAvroDeserializer(registry, incompatible).deserialize(TOPIC, bytes))
        .isInstanceOf(SchemaMismatchException.class)
        .hasMessageContaining("priority");
  }

  private byte[] writeWithGeneratedV1() {
    return requireNonNull(
        new SpecificAvroSerializer<ActivationBatch>(registry, AvroSerdeConfig.forValues())
            .serialize(TOPIC, SampleRecords.activationBatch()));
  }

  /** {@code base} plus an int field with a default, appended at the end. */
  static Schema withField(Schema base, String name, int defaultValue) {
    List<Schema.Field> fields = copyFields(base);
    fields.add(new Schema.Field(name, Schema.create(Schema.Type.INT), "added in v2", defaultValue));
    return Schema.createRecord(base.getName(), base.getDoc(), base.getNamespace(), false, fields);
  }

  /**
   * Copies a generated record into a generic one of {@code schema}, logical types as Avro types.
   */
  static GenericRecord toGeneric(SpecificRecord specific, Schema schema) {
    GenericRecord generic = new GenericData.Record(schema);
    for (Schema.Field field : specific.getSchema().getFields()) {
      Object value = specific.get(field.pos());
      if (value instanceof java.time.Instant) {
        value = ((java.time.Instant) value).toEpochMilli();
      } else if (value instanceof Enum<?>) {
        value =
            new GenericData.EnumSymbol(
                schema.getField(field.name()).schema(), ((Enum<?>) value).name());
      }
      generic.put(field.name(), value);
    }
    return generic;
  }

  private static List<Schema.Field> copyFields(Schema schema) {
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field field : schema.getFields()) {
      fields.add(new Schema.Field(field, field.schema()));
    }
    return fields;
  }
}
