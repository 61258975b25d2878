package io.saestream.launcher.bench;

import io.saestream.sae.checkpoint.DType;
import io.saestream.sae.checkpoint.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;

/**
 * A float32 tensor whose elements are computed from their index (a stateless hash), so benchmarks
 * can stream multi-gigabyte SAEs without holding them anywhere. Values are uniform in {@code
 * [-scale, scale)}. Immutable and thread-safe.
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

  /** The element at flat index {@code i}. */
  float at(long i) {
    long z = (i + 1) * 0x9E3779B97F4A7C15L + seed;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z ^= z >>> 31;
    return ((z >>> 40) * 0x1.0p-24f * 2f - 1f) * scale;
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
    for (int j = 0; j < length; j++) {
      dst[dstOffset + j] = at(start + j);
    }
  }

  @Override
  public void writeRaw(WritableByteChannel out) throws IOException {
    ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    long n = numel();
    long i = 0;
    while (i < n) {
      buf.clear();
      int len = (int) Math.min(n - i, buf.capacity() / 4);
      for (int j = 0; j < len; j++) {
        buf.putFloat(at(i + j));
      }
      buf.flip();
      while (buf.hasRemaining()) {
        out.write(buf);
      }
      i += len;
    }
  }
}
