package io.saestream.sae.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;

/**
 * A float32 tensor on the Java heap, for small SAEs, training state and tests. Wraps (does not
 * copy) the array it is given: callers must not modify it afterwards.
 */
public final class FloatTensor implements Tensor {

  private final float[] data;
  private final long[] shape;

  private FloatTensor(float[] data, long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException(
            "shape must be non-negative, was " + Arrays.toString(shape));
      }
      n *= d;
    }
    if (n != data.length) {
      throw new IllegalArgumentException(
          "shape " + Arrays.toString(shape) + " needs " + n + " elements, got " + data.length);
    }
    this.data = data;
    this.shape = shape.clone();
  }

  /** Wraps {@code data} with the given row-major shape. */
  public static FloatTensor of(float[] data, long... shape) {
    return new FloatTensor(data, shape);
  }

  @Override
  public DType dtype() {
    return DType.F32;
  }

  @Override
  public long[] shape() {
    return shape;
  }

  @Override
  public void readFloats(long start, float[] dst, int dstOffset, int length) {
    System.arraycopy(data, Math.toIntExact(start), dst, dstOffset, length);
  }

  @Override
  public void writeRaw(WritableByteChannel out) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    int i = 0;
    while (i < data.length) {
      buf.clear();
      int n = Math.min(data.length - i, buf.capacity() / 4);
      buf.asFloatBuffer().put(data, i, n);
      buf.limit(n * 4);
      while (buf.hasRemaining()) {
        out.write(buf);
      }
      i += n;
    }
  }

  @Override
  public float[] toFloatArray() {
    return data.clone();
  }

  @Override
  public String toString() {
    return "FloatTensor" + Arrays.toString(shape);
  }
}
