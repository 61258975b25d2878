package io.saestream.launcher.bench;

import io.saestream.sae.checkpoint.SyntheticTensor;
import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.serde.AvroSerdeConfig;
import io.saestream.schema.serde.SpecificAvroSerializer;
import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.Dtype;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * F32 ActivationBatch records of the end-to-end benchmark, shaped like production traffic: every
 * sequence spans {@value #RECORDS_PER_SEQUENCE} consecutive records (start_position advancing by
 * the record's token count) and has its own id, so keys spread evenly over partitions and
 * per-sequence monitoring state grows as it would; token ids and token text are present, as the
 * alert contexts and top-context statistics use them. The activations are drawn from {@value
 * #DISTINCT_BLOCKS} synthetic blocks, so the broker does not see one value repeated.
 *
 * <p>Encoded on demand (about a millisecond for 768 KiB): one instance per producing thread; not
 * thread-safe.
 */
final class ActivationRecords {

  /** Records per sequence. */
  static final int RECORDS_PER_SEQUENCE = 4;

  private static final int DISTINCT_BLOCKS = 32;

  private final SpecificAvroSerializer<ActivationBatch> serializer;
  private final String model;
  private final String hook;
  private final int tokens;
  private final int dIn;
  private final List<ByteBuffer> blocks = new ArrayList<>();
  private final List<Integer> tokenIds = new ArrayList<>();
  private final List<String> tokenTexts = new ArrayList<>();

  ActivationRecords(
      SchemaRegistryClient registryClient, String model, String hook, int tokens, int dIn) {
    this.serializer = new SpecificAvroSerializer<>(registryClient, AvroSerdeConfig.forValues());
    this.model = model;
    this.hook = hook;
    this.tokens = tokens;
    this.dIn = dIn;
    for (int i = 0; i < DISTINCT_BLOCKS; i++) {
      float[] values = activations(i, tokens, dIn);
      ByteBuffer data =
          ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      data.asFloatBuffer().put(values);
      blocks.add(data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN));
    }
    for (int t = 0; t < tokens; t++) {
      tokenIds.add(1000 + t);
      tokenTexts.add("tok" + t);
    }
  }

  /** Synthetic activations of block {@code seed}: uniform in [-1, 1), row-major. */
  static float[] activations(int seed, int tokens, int dIn) {
    float[] values = new float[tokens * dIn];
    new SyntheticTensor(100 + seed, 1f, tokens, dIn).readFloats(0, values, 0, values.length);
    return values;
  }

  /**
   * Record {@code i} of the stream named {@code stream} (distinct streams have distinct sequence
   * ids) for {@code topic}, with produced_at and the record timestamp set to {@code now}.
   */
  ProducerRecord<byte[], byte[]> record(String topic, String stream, long i, Instant now) {
    String sequenceId = "bench-" + stream + "-" + i / RECORDS_PER_SEQUENCE;
    // Mixed, so that the sequences differ in content and rules fire on some, not all or none.
    int block =
        (int) Long.remainderUnsigned(((i + 1) * 0x9E3779B97F4A7C15L) >>> 32, DISTINCT_BLOCKS);
    ActivationBatch batch =
        ActivationBatch.newBuilder()
            .setModelId(model)
            .setHookName(hook)
            .setSequenceId(sequenceId)
            .setStartPosition((int) (i % RECORDS_PER_SEQUENCE) * tokens)
            .setNTokens(tokens)
            .setDIn(dIn)
            .setDtype(Dtype.F32)
            .setData(blocks.get(block).duplicate())
            .setTokenIds(tokenIds)
            .setTokens(tokenTexts)
            .setProducedAt(now)
            .setAttributes(Map.of("tenant", "bench"))
            .build();
    byte[] value = serializer.serialize(topic, batch);
    if (value == null) {
      throw new IllegalStateException("the serializer returned null for a record");
    }
    return new ProducerRecord<>(
        topic, null, now.toEpochMilli(), sequenceId.getBytes(StandardCharsets.UTF_8), value);
  }
}
