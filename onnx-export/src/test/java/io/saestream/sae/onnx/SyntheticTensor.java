package io.saestream.sae.onnx;

import io.saestream.sae.checkpoint.DType;
import io.saestream.sae.checkpoint.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;

/**
 * A float32 tensor of any size whose elements are a cheap function of their flat index, generated
 * on demand: lets tests export multi-GiB SAEs without holding (or reading) their weights.
 */
final class SyntheticTensor implements Tensor {

  private final long[] shape;
  private final long seed;
  private final float scale;

  SyntheticTensor(long seed, float scale, long... shape) {
    this.shape = shape.clone();
    this.seed = seed;
    this.scale = scale;
  }

  /** Element {@code i}: the SplitMix64 hash of (seed, i) mapped to [-scale, scale). */
  float value(long i) {
    long z = i + seed * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z ^= z >>> 31;
    return ((z >>> 40) / (float) (1L << 24) * 2f - 1f) * scale;
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
    for (int i = 0; i < length; i++) {
      dst[dstOffset + i] = value(start + i);
    }
  }

  @Override
  public void writeRaw(WritableByteChannel out) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    long n = numel();
    for (long i = 0; i < n; ) {
      buf.clear();
      while (buf.remaining() >= Float.BYTES && i < n) {
        buf.putFloat(value(i++));
      }
      buf.flip();
      while (buf.hasRemaining()) {
        out.write(buf);
      }
    }
  }

  @Override
  public String toString() {
    return "SyntheticTensor" + Arrays.toString(shape);
  }
}
