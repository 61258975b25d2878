package io.saestream.streams.topology;

import static io.saestream.streams.testing.ActivationBatches.FIXTURE_HOOK;
import static io.saestream.streams.testing.ActivationBatches.FIXTURE_MODEL;
import static org.assertj.core.api.Assertions.assertThat;

import io.saestream.schema.serde.AvroSerdeConfig;
import io.saestream.schema.serde.GenericAvroSerializer;
import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.Dtype;
import io.saestream.schema.v1.FeatureBatch;
import io.saestream.streams.errors.DeadLetterHeaders;
import io.saestream.streams.errors.DeadLetterMetrics;
import io.saestream.streams.errors.DeadLetterReason;
import io.saestream.streams.testing.ActivationBatches;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.test.TestRecord;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One test per dead-letter reason: the bad record lands on the dead-letter topic with its original
 * key, value and headers plus the reason headers, the per-reason metric counts it, nothing else is
 * written for it, and the next good record is processed normally.
 */
class DeadLetterTopologyTest {

  private static final int D_IN = 32;

  private static TopologyFixture fixture;
  private TopologyFixture.Driver driver;

  @BeforeAll
  static void loadSaes(@TempDir Path stateDir) {
    fixture = new TopologyFixture(stateDir);
  }

  @AfterAll
  static void closeSaes() {
    fixture.close();
  }

  @BeforeEach
  void startDriver() {
    driver = fixture.newDriver();
  }

  @AfterEach
  void closeDriver() {
    driver.close();
  }

  @Test
  void bytesWithoutTheMagicByteGoToDeadLetterTopicAndProcessingContinues() {
    byte[] value = "not avro at all".getBytes(StandardCharsets.UTF_8);
    sendRaw("seq-bad", value);

    assertDeadLettered(DeadLetterReason.UNDECODABLE, "seq-bad", value, "magic byte");
  }

  @Test
  void truncatedRecordGoesToDeadLetterTopicAndProcessingContinues() {
    byte[] whole = driver.encode(good("seq-cut"));
    byte[] value = Arrays.copyOf(whole, whole.length / 2);
    sendRaw("seq-cut", value);

    assertDeadLettered(DeadLetterReason.UNDECODABLE, "seq-cut", value, "truncated");
  }

  @Test
  void recordOfAnotherSchemaGoesToDeadLetterTopicAndProcessingContinues() {
    FeatureBatch notAnActivation =
        FeatureBatch.newBuilder()
            .setModelId("m")
            .setHookName("h")
            .setSequenceId("s")
            .setStartPosition(0)
            .setNTokens(0)
            .setSaeId("x")
            .setSaeVersion(0)
            .setDSae(1)
            .setRowOffsets(List.of(0))
            .setLatentIndices(List.of())
            .setLatentValues(List.of())
            .setSourceTopic("t")
            .setSourcePartition(0)
            .setSourceOffset(0)
            .setProducedAt(TopologyFixture.NOW)
            .build();
    byte[] value =
        new io.saestream.schema.serde.SpecificAvroSerializer<FeatureBatch>(
                fixture.schemaRegistry, AvroSerdeConfig.forValues())
            .serialize("elsewhere", notAnActivation);
    sendRaw("seq-other", nonNull(value));

    assertDeadLettered(DeadLetterReason.UNDECODABLE, "seq-other", nonNull(value), "schema");
  }

  @Test
  void tombstoneGoesToDeadLetterTopicAndProcessingContinues() {
    driver.input.pipeInput(
        new TestRecord<>(
            TopologyFixture.key("seq-null"), null, new RecordHeaders(), TopologyFixture.NOW));

    assertDeadLettered(DeadLetterReason.UNDECODABLE, "seq-null", null, "no value");
  }

  @Test
  void unknownSchemaIdGoesToDeadLetterTopicAndProcessingContinues() {
    byte[] value = {0, 0, 0, 0x7f, (byte) 0xff, 2, 4, 6};
    sendRaw("seq-id", value);

    assertDeadLettered(DeadLetterReason.UNKNOWN_SCHEMA_ID, "seq-id", value, "32767");
  }

  @Test
  void dtypeFromANewerProducerGoesToDeadLetterTopicAndProcessingContinues() {
    byte[] value = newerProducerRecord("seq-f8", "F8", new byte[D_IN]);
    sendRaw("seq-f8", value);

    assertDeadLettered(DeadLetterReason.UNKNOWN_DTYPE, "seq-f8", value, "does not know");
  }

  @Test
  void newerProducersRecordsInAKnownDtypeStillDecode() {
    float[] values = ActivationBatches.values(1, D_IN, 5);
    ByteBuffer data = ByteBuffer.allocate(D_IN * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      data.putFloat(v);
    }
    sendRaw("seq-new-f32", newerProducerRecord("seq-new-f32", "F32", data.array()));
    driver.send(ActivationBatches.f32("seq-old-f32", 1, D_IN, values));

    List<FeatureBatch> features = driver.features.readValuesToList();
    assertThat(features).hasSize(4);
    assertThat(features.get(0).getLatentIndices()).isEqualTo(features.get(2).getLatentIndices());
    assertThat(driver.deadLetters.isEmpty()).isTrue();
  }

  @Test
  void dInMismatchGoesToDeadLetterTopicWithTheSaeIdAndProcessingContinues() {
    ActivationBatch batch =
        ActivationBatches.f32("seq-din", 2, 16, ActivationBatches.values(2, 16, 1));
    byte[] value = driver.encode(batch);
    sendRaw("seq-din", value);

    TestRecord<byte[], byte[]> letter =
        assertDeadLettered(DeadLetterReason.D_IN_MISMATCH, "seq-din", value, "d_in=32");
    assertThat(header(letter, DeadLetterHeaders.SAE_ID)).isEqualTo(TopologyFixture.TOPK);
  }

  @Test
  void dataLengthMismatchGoesToDeadLetterTopicAndProcessingContinues() {
    ActivationBatch batch =
        ActivationBatches.builder(FIXTURE_MODEL, FIXTURE_HOOK, "seq-len", 2, D_IN)
            .setDtype(Dtype.F32)
            .setData(ByteBuffer.wrap(new byte[2 * D_IN * 4 - 4]))
            .build();
    byte[] value = driver.encode(batch);
    sendRaw("seq-len", value);

    assertDeadLettered(
        DeadLetterReason.DATA_LENGTH_MISMATCH, "seq-len", value, "= 256 bytes, was 252");
  }

  @Test
  void nanValuesGoToDeadLetterTopicAndProcessingContinues() {
    float[] values = ActivationBatches.values(3, D_IN, 2);
    values[D_IN + 5] = Float.NaN;
    byte[] value = driver.encode(ActivationBatches.f32("seq-nan", 3, D_IN, values));
    sendRaw("seq-nan", value);

    assertDeadLettered(
        DeadLetterReason.NON_FINITE_VALUES, "seq-nan", value, "data[token 1, dim 5] is NaN");
  }

  @Test
  void infiniteHalfPrecisionValuesGoToDeadLetterTopicAndProcessingContinues() {
    ByteBuffer data = ByteBuffer.allocate(D_IN * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < D_IN; i++) {
      data.putShort(i == 7 ? (short) 0xff80 : (short) 0x3f80); // bfloat16 -inf, 1.0
    }
    ActivationBatch batch =
        ActivationBatches.builder(FIXTURE_MODEL, FIXTURE_HOOK, "seq-inf", 1, D_IN)
            .setDtype(Dtype.BF16)
            .setData(data.flip())
            .build();
    byte[] value = driver.encode(batch);
    sendRaw("seq-inf", value);

    assertDeadLettered(
        DeadLetterReason.NON_FINITE_VALUES, "seq-inf", value, "data[token 0, dim 7] is -Infinity");
  }

  @Test
  void zeroTokensGoToDeadLetterTopicAndProcessingContinues() {
    ActivationBatch batch =
        ActivationBatches.builder(FIXTURE_MODEL, FIXTURE_HOOK, "seq-zero", 0, D_IN)
            .setDtype(Dtype.F32)
            .setData(ByteBuffer.allocate(0))
            .build();
    byte[] value = driver.encode(batch);
    sendRaw("seq-zero", value);

    assertDeadLettered(DeadLetterReason.N_TOKENS_OUT_OF_RANGE, "seq-zero", value, "was 0");
  }

  @Test
  void tooManyTokensGoToDeadLetterTopicAndProcessingContinues() {
    int n = TopologyFixture.MAX_TOKENS + 1;
    byte[] value =
        driver.encode(
            ActivationBatches.f32("seq-long", n, D_IN, ActivationBatches.values(n, D_IN, 4)));
    sendRaw("seq-long", value);

    assertDeadLettered(DeadLetterReason.N_TOKENS_OUT_OF_RANGE, "seq-long", value, "[1, 64]");
  }

  @Test
  void negativeStartPositionGoesToDeadLetterTopicAndProcessingContinues() {
    ActivationBatch batch =
        ActivationBatches.builder(FIXTURE_MODEL, FIXTURE_HOOK, "seq-pos", 1, D_IN)
            .setStartPosition(-1)
            .setDtype(Dtype.F32)
            .setData(ByteBuffer.allocate(D_IN * 4))
            .build();
    byte[] value = driver.encode(batch);
    sendRaw("seq-pos", value);

    assertDeadLettered(DeadLetterReason.INVALID_METADATA, "seq-pos", value, "start_position");
  }

  @Test
  void tokenIdsOfTheWrongLengthGoToDeadLetterTopicAndProcessingContinues() {
    ActivationBatch batch =
        ActivationBatches.builder(FIXTURE_MODEL, FIXTURE_HOOK, "seq-ids", 2, D_IN)
            .setDtype(Dtype.F32)
            .setData(ByteBuffer.allocate(2 * D_IN * 4))
            .setTokenIds(List.of(1, 2, 3))
            .build();
    byte[] value = driver.encode(batch);
    sendRaw("seq-ids", value);

    assertDeadLettered(DeadLetterReason.INVALID_METADATA, "seq-ids", value, "token_ids");
  }

  @Test
  void hookWithoutSaeGoesToDeadLetterTopicAndProcessingContinues() {
    byte[] value =
        driver.encode(
            ActivationBatches.f32(
                FIXTURE_MODEL, "blocks.9.hook_mlp_out", "seq-hook", 1, D_IN, new float[D_IN]));
    sendRaw("seq-hook", value);

    assertDeadLettered(
        DeadLetterReason.NO_SAE_FOR_HOOK, "seq-hook", value, "blocks.9.hook_mlp_out");
  }

  @Test
  void deadLetterKeepsTheOriginalHeadersAndTimestamp() {
    byte[] value = {9, 9, 9};
    RecordHeaders headers = new RecordHeaders();
    headers.add("tenant", "acme".getBytes(StandardCharsets.UTF_8));
    driver.input.pipeInput(
        new TestRecord<>(
            TopologyFixture.key("seq-h"), value, headers, TopologyFixture.NOW.plusSeconds(5)));

    TestRecord<byte[], byte[]> letter = driver.deadLetters.readRecord();
    assertThat(header(letter, "tenant")).isEqualTo("acme");
    assertThat(letter.timestamp()).isEqualTo(TopologyFixture.NOW.plusSeconds(5).toEpochMilli());
  }

  // ---------------------------------------------------------------------------------------------

  private void sendRaw(String key, byte[] value) {
    driver.sendRaw(TopologyFixture.key(key), value, new RecordHeaders());
  }

  /**
   * Checks the dead letter of the record just sent (offset 0), then sends a good record and checks
   * that it is processed.
   */
  private TestRecord<byte[], byte[]> assertDeadLettered(
      DeadLetterReason reason, String key, byte @Nullable [] value, String messageFragment) {
    TestRecord<byte[], byte[]> letter = driver.deadLetters.readRecord();
    assertThat(letter.key()).isEqualTo(TopologyFixture.key(key));
    assertThat(letter.value()).isEqualTo(value);
    assertThat(header(letter, DeadLetterHeaders.REASON)).isEqualTo(reason.name());
    assertThat(header(letter, DeadLetterHeaders.MESSAGE)).contains(messageFragment);
    assertThat(header(letter, DeadLetterHeaders.SOURCE_TOPIC)).isEqualTo("sae.activations.v1");
    assertThat(header(letter, DeadLetterHeaders.SOURCE_PARTITION)).isEqualTo("0");
    assertThat(header(letter, DeadLetterHeaders.SOURCE_OFFSET)).isEqualTo("0");
    assertThat(driver.deadLetters.isEmpty()).isTrue();
    assertThat(driver.features.isEmpty()).isTrue();
    assertThat(driver.reconstruction.isEmpty()).isTrue();
    assertThat(DeadLetterMetrics.total(driver.driver.metrics(), reason)).isEqualTo(1);
    assertThat(DeadLetterMetrics.total(driver.driver.metrics())).isEqualTo(1);

    driver.send(good("seq-after"));
    assertThat(driver.features.readValuesToList())
        .extracting(FeatureBatch::getSequenceId, FeatureBatch::getSourceOffset)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("seq-after", 1L),
            org.assertj.core.groups.Tuple.tuple("seq-after", 1L));
    assertThat(driver.reconstruction.readValuesToList()).hasSize(2);
    assertThat(driver.deadLetters.isEmpty()).isTrue();
    assertThat(DeadLetterMetrics.total(driver.driver.metrics())).isEqualTo(1);
    return letter;
  }

  private static ActivationBatch good(String sequenceId) {
    return ActivationBatches.f32(sequenceId, 2, D_IN, ActivationBatches.values(2, D_IN, 11));
  }

  /** A record written with a newer ActivationBatch schema whose Dtype has an extra symbol F8. */
  private byte[] newerProducerRecord(String sequenceId, String dtype, byte[] data) {
    Schema current = ActivationBatch.getClassSchema();
    Schema oldDtype = current.getField("dtype").schema();
    List<String> symbols = new ArrayList<>(oldDtype.getEnumSymbols());
    symbols.add("F8");
    Schema newDtype =
        Schema.createEnum(oldDtype.getName(), oldDtype.getDoc(), oldDtype.getNamespace(), symbols);
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : current.getFields()) {
      fields.add(new Schema.Field(f, f.name().equals("dtype") ? newDtype : f.schema()));
    }
    Schema newer =
        Schema.createRecord(
            current.getName(), current.getDoc(), current.getNamespace(), false, fields);
    GenericRecord record = new GenericData.Record(newer);
    record.put("model_id", FIXTURE_MODEL);
    record.put("hook_name", FIXTURE_HOOK);
    record.put("sequence_id", sequenceId);
    record.put("start_position", 0);
    record.put("n_tokens", 1);
    record.put("d_in", D_IN);
    record.put("dtype", new GenericData.EnumSymbol(newDtype, dtype));
    record.put("data", ByteBuffer.wrap(data));
    record.put("produced_at", TopologyFixture.NOW.toEpochMilli());
    record.put("attributes", java.util.Map.of());
    return nonNull(
        new GenericAvroSerializer(fixture.schemaRegistry, AvroSerdeConfig.forValues())
            .serialize("sae.activations.v1", record));
  }

  private static String header(TestRecord<byte[], byte[]> record, String name) {
    Headers headers = record.headers();
    Header header = headers.lastHeader(name);
    assertThat(header).as("header %s", name).isNotNull();
    return new String(header.value(), StandardCharsets.UTF_8);
  }

  private static byte[] nonNull(byte @Nullable [] bytes) {
    if (bytes == null) {
      throw new AssertionError("serializer returned null");
    }
    return bytes;
  }
}
