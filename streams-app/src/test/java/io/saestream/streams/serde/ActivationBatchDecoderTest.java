package io.saestream.streams.serde;

import static org.assertj.core.api.Assertions.assertThat;

import io.saestream.schema.serde.AvroSerdeConfig;
import io.saestream.schema.serde.SpecificAvroSerializer;
import io.saestream.schema.testing.InMemorySchemaRegistryClient;
import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.Dtype;
import io.saestream.streams.errors.DeadLetter;
import io.saestream.streams.errors.DeadLetterReason;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

class ActivationBatchDecoderTest {

  private static final String TOPIC = "sae.activations.v1";

  private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
  private final ActivationBatchDecoder decoder = new ActivationBatchDecoder(registry);

  @Test
  void everyFieldSurvivesDecoding() {
    ActivationBatch batch =
        ActivationBatch.newBuilder()
            .setModelId("gpt2-small")
            .setHookName("blocks.8.hook_resid_pre")
            .setSequenceId("req-1")
            .setStartPosition(12)
            .setNTokens(2)
            .setDIn(2)
            .setDtype(Dtype.BF16)
            .setData(ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}))
            .setTokenIds(List.of(464, 3290))
            .setTokens(List.of("The", " cat"))
            .setProducedAt(Instant.ofEpochMilli(1_700_000_123_456L))
            .setAttributes(Map.of("tenant", "acme"))
            .build();
    byte[] bytes =
        new SpecificAvroSerializer<ActivationBatch>(registry, AvroSerdeConfig.forValues())
            .serialize(TOPIC, batch);

    ActivationBatchDecoder.Decoded decoded = decoder.decode(TOPIC, bytes);

    assertThat(decoded.deadLetter()).isNull();
    assertThat(decoded.batch()).isEqualTo(batch);
  }

  @Test
  void optionalFieldsMayBeAbsent() {
    ActivationBatch batch =
        ActivationBatch.newBuilder()
            .setModelId("m")
            .setHookName("h")
            .setSequenceId("s")
            .setStartPosition(0)
            .setNTokens(1)
            .setDIn(1)
            .setDtype(Dtype.F32)
            .setData(ByteBuffer.wrap(new byte[4]))
            .setProducedAt(Instant.ofEpochMilli(1))
            .build();
    byte[] bytes =
        new SpecificAvroSerializer<ActivationBatch>(registry, AvroSerdeConfig.forValues())
            .serialize(TOPIC, batch);

    assertThat(decoder.decode(TOPIC, bytes).batch()).isEqualTo(batch);
  }

  @Test
  void theLenientSchemaDiffersOnlyInTheDefaultDtypeSymbol() {
    Schema strict = ActivationBatch.getClassSchema();
    Schema lenient = ActivationBatchDecoder.lenientSchema();

    assertThat(lenient.getFields().stream().map(Schema.Field::name).collect(Collectors.toList()))
        .isEqualTo(
            strict.getFields().stream().map(Schema.Field::name).collect(Collectors.toList()));
    assertThat(lenient.getField("dtype").schema().getEnumSymbols())
        .containsExactly("F32", "F16", "BF16", ActivationBatchDecoder.UNRECOGNISED_DTYPE);
    assertThat(lenient.getField("dtype").schema().getEnumDefault())
        .isEqualTo(ActivationBatchDecoder.UNRECOGNISED_DTYPE);
    assertThat(lenient.getField("data").schema()).isEqualTo(strict.getField("data").schema());
  }

  @Test
  void undecodableBytesSayWhy() {
    DeadLetter badMagic = rejection(new byte[] {1, 0, 0, 0, 1});
    DeadLetter unknownId = rejection(new byte[] {0, 0, 0, 0, 9, 0});

    assertThat(badMagic.reason()).isEqualTo(DeadLetterReason.UNDECODABLE);
    assertThat(badMagic.exceptionClass())
        .isEqualTo("io.saestream.schema.serde.UnknownMagicByteException");
    assertThat(unknownId.reason()).isEqualTo(DeadLetterReason.UNKNOWN_SCHEMA_ID);
    assertThat(unknownId.message()).contains("schema id 9");
  }

  private DeadLetter rejection(byte[] bytes) {
    ActivationBatchDecoder.Decoded decoded = decoder.decode(TOPIC, bytes);
    DeadLetter letter = decoded.deadLetter();
    if (letter == null) {
      throw new AssertionError("decoded: " + decoded.batch());
    }
    return letter;
  }
}
