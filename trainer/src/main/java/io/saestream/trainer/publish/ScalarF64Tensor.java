package io.saestream.trainer.publish;

import io.saestream.sae.checkpoint.DType;
import io.saestream.sae.checkpoint.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.util.Objects;

/** A 0-d float64 tensor, as sae-lens stores BatchTopK's {@code topk_threshold}. Immutable. */
final class ScalarF64Tensor implements Tensor {

  private final double value;

  ScalarF64Tensor(double value) {
    this.value = value;
  }

  @Override
  public DType dtype() {
    return DType.F64;
  }

  @Override
  public long[] shape() {
    return new long[0];
  }

  @Override
  public void readFloats(long start, float[] dst, int dstOffset, int length) {
    Objects.checkFromIndexSize(start, length, 1);
    if (length == 1) {
      dst[dstOffset] = (float) value;
    }
  }

  @Override
  public void readDoubles(long start, double[] dst, int dstOffset, int length) {
    Objects.checkFromIndexSize(start, length, 1);
    if (length == 1) {
      dst[dstOffset] = value;
    }
  }

  @Override
  public void writeRaw(WritableByteChannel out) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(0, value);
    while (b.hasRemaining()) {
      out.write(b);
    }
  }
}
