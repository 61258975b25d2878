package io.saestream.trainer.app;

import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.Dtype;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.Map;

/**
 * {@link ActivationBatch} records as a producer of activations writes them, good or deliberately
 * bad, for the app's tests. Stateless.
 */
final class ActivationBatches {

  private ActivationBatches() {}

  /**
   * A batch of {@code nTokens} rows of width {@code dIn} starting at position 0, with {@code data}
   * taken as given (it need not match the shape: that is how a test builds a bad batch). The
   * trainer does not read {@code produced_at}, so it is fixed.
   */
  static ActivationBatch batch(
      String modelId,
      String hookName,
      String sequenceId,
      int nTokens,
      int dIn,
      Dtype dtype,
      byte[] data) {
    return ActivationBatch.newBuilder()
        .setModelId(modelId)
        .setHookName(hookName)
        .setSequenceId(sequenceId)
        .setStartPosition(0)
        .setNTokens(nTokens)
        .setDIn(dIn)
        .setDtype(dtype)
        .setData(ByteBuffer.wrap(data))
        .setProducedAt(Instant.EPOCH)
        .setAttributes(Map.of())
        .build();
  }

  /** {@code values} little-endian as F32, or as BF16 (the upper half of each float's bits). */
  static byte[] encode(float[] values, Dtype dtype) {
    if (dtype != Dtype.F32 && dtype != Dtype.BF16) {
      throw new IllegalArgumentException("dtype must be F32 or BF16, was " + dtype);
    }
    int width = dtype == Dtype.F32 ? 4 : 2;
    ByteBuffer b = ByteBuffer.allocate(values.length * width).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      if (dtype == Dtype.F32) {
        b.putFloat(v);
      } else {
        b.putShort((short) (Float.floatToIntBits(v) >>> 16));
      }
    }
    return b.array();
  }
}
