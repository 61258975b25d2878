package io.saestream.trainer.state;

import io.saestream.sae.checkpoint.DType;
import io.saestream.sae.checkpoint.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;
import java.util.Objects;

/**
 * A float64 tensor over a heap array (wrapped, not copied), for the state's float64 sums and its
 * integer counters (exact below 2^53). Immutable by convention: the caller must not modify the
 * array.
 */
final class DoubleArrayTensor implements Tensor {

  private final double[] data;
  private final long[] shape;

  DoubleArrayTensor(double[] data, long... shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    if (n != data.length) {
      throw new IllegalArgumentException(
          "shape " + Arrays.toString(shape) + " needs " + n + " elements, got " + data.length);
    }
    this.data = data;
    this.shape = shape.clone();
  }

  /** Counters as exact float64 values. */
  static DoubleArrayTensor ofCounts(String name, long[] counts) {
    double[] d = new double[counts.length];
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] < 0 || counts[i] > (1L << 53)) {
        throw new IllegalArgumentException(
            name + "[" + i + "] = " + counts[i] + " is outside [0, 2^53], not exact in float64");
      }
      d[i] = counts[i];
    }
    return new DoubleArrayTensor(d, counts.length);
  }

  @Override
  public DType dtype() {
    return DType.F64;
  }

  @Override
  public long[] shape() {
    return shape;
  }

  @Override
  public void readFloats(long start, float[] dst, int dstOffset, int length) {
    Objects.checkFromIndexSize(start, length, data.length);
    for (int i = 0; i < length; i++) {
      dst[dstOffset + i] = (float) data[(int) start + i];
    }
  }

  @Override
  public void readDoubles(long start, double[] dst, int dstOffset, int length) {
    System.arraycopy(data, Math.toIntExact(start), dst, dstOffset, length);
  }

  @Override
  public void writeRaw(WritableByteChannel out) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    int i = 0;
    while (i < data.length) {
      buf.clear();
      int n = Math.min(data.length - i, buf.capacity() / Double.BYTES);
      buf.asDoubleBuffer().put(data, i, n);
      buf.limit(n * Double.BYTES);
      while (buf.hasRemaining()) {
        out.write(buf);
      }
      i += n;
    }
  }

  @Override
  public String toString() {
    return "DoubleArrayTensor" + Arrays.toString(shape);
  }
}
