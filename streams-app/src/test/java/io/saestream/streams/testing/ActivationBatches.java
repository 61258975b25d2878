package io.saestream.streams.testing;

import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.Dtype;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.Map;

/** ActivationBatch records for tests. */
public final class ActivationBatches {

  /** Model id of the sae-lens fixtures. */
  public static final String FIXTURE_MODEL = "synthetic-fixture";

  /** Hook of the sae-lens fixtures. */
  public static final String FIXTURE_HOOK = "blocks.0.hook_resid_post";

  private ActivationBatches() {}

  /** A float32 batch of the fixture model and hook. */
  public static ActivationBatch f32(String sequenceId, int nTokens, int dIn, float[] values) {
    return f32(FIXTURE_MODEL, FIXTURE_HOOK, sequenceId, nTokens, dIn, values);
  }

  /** A float32 batch. */
  public static ActivationBatch f32(
      String model, String hook, String sequenceId, int nTokens, int dIn, float[] values) {
    ByteBuffer data =
        ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      data.putFloat(v);
    }
    data.flip();
    return builder(model, hook, sequenceId, nTokens, dIn).setDtype(Dtype.F32).setData(data).build();
  }

  /** A builder with ids, sizes and a fixed produced_at set; dtype and data still to set. */
  public static ActivationBatch.Builder builder(
      String model, String hook, String sequenceId, int nTokens, int dIn) {
    return ActivationBatch.newBuilder()
        .setModelId(model)
        .setHookName(hook)
        .setSequenceId(sequenceId)
        .setStartPosition(0)
        .setNTokens(nTokens)
        .setDIn(dIn)
        .setProducedAt(Instant.ofEpochMilli(1_700_000_000_000L))
        .setAttributes(Map.of());
  }

  /** {@code n × d} deterministic finite values in [-1, 1). */
  public static float[] values(int n, int d, long seed) {
    java.util.Random random = new java.util.Random(seed);
    float[] values = new float[n * d];
    for (int i = 0; i < values.length; i++) {
      values[i] = random.nextFloat() * 2 - 1;
    }
    return values;
  }
}
