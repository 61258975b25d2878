package io.saestream.schema.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.schema.checkpoint.TestCheckpoints.Built;
import io.saestream.schema.testing.InMemorySchemaRegistryClient;
import io.saestream.schema.v1.SaeCheckpointChunk;
import io.saestream.schema.v1.TrainingMetrics;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class CheckpointRecordSerdeTest {

  private static final String TOPIC = CheckpointKeys.DEFAULT_TOPIC;

  private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
  private final CheckpointRecordSerializer serializer =
      new CheckpointRecordSerializer(registry, true);
  private final CheckpointRecordDeserializer deserializer =
      new CheckpointRecordDeserializer(registry);

  @Test
  void manifestsAndChunksRoundTripEachUnderItsOwnSubject() {
    Built built = TestCheckpoints.build("sae", 1, TestCheckpoints.payload(1500, 1), 1000, null);

    SpecificRecord manifest =
        deserializer.deserialize(TOPIC, serializer.serialize(TOPIC, built.manifest()));
    SpecificRecord chunk =
        deserializer.deserialize(TOPIC, serializer.serialize(TOPIC, built.chunks().get(1)));

    assertThat(manifest).isEqualTo(built.manifest());
    assertThat(chunk).isEqualTo(built.chunks().get(1));
    assertThat(registry.subjects())
        .containsExactly(
            "sae.checkpoints.v1-io.saestream.schema.v1.SaeCheckpoint",
            "sae.checkpoints.v1-io.saestream.schema.v1.SaeCheckpointChunk");
  }

  @Test
  void tombstonesStayNull() {
    assertThat(serializer.serialize(TOPIC, null)).isNull();
    assertThat(deserializer.deserialize(TOPIC, null)).isNull();
  }

  @Test
  void otherRecordTypesAreRefusedBothWays() {
    TrainingMetrics other =
        TrainingMetrics.newBuilder()
            .setStep(1)
            .setTokensSeen(2)
            .setFvu(0)
            .setL0(1)
            .setDeadFraction(0)
            .build();
    assertThatThrownBy(() -> serializer.serialize(TOPIC, other))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("not io.saestream.schema.v1.TrainingMetrics");

    // Registered under a subject of its own, as another producer might.
    int id = registry.register("elsewhere-metrics", TrainingMetrics.getClassSchema());
    byte[] bytes = ByteBuffer.allocate(6).put((byte) 0).putInt(id).put((byte) 0).array();
    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, bytes))
        .isInstanceOf(SerializationException.class)
        .hasMessage(
            "schema id "
                + id
                + " is a io.saestream.schema.v1.TrainingMetrics, not a checkpoint"
                + " manifest or chunk");
  }

  @Test
  void bytesThatAreNotCheckpointRecordsFailAsSerializationErrors() {
    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, new byte[] {1, 2, 3}))
        .isInstanceOf(SerializationException.class);
    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, new byte[] {0, 0, 0, 0, 99, 1}))
        .isInstanceOf(SerializationException.class)
        .hasMessage("no schema with id 99 in the registry");
    SaeCheckpointChunk chunk = CheckpointRecords.chunk("sae", 1, 0, 1, new byte[] {1});
    byte[] whole = Objects.requireNonNull(serializer.serialize(TOPIC, chunk));
    byte[] cut = Arrays.copyOf(whole, whole.length - 40);
    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, cut))
        .isInstanceOf(SerializationException.class);
  }
}
