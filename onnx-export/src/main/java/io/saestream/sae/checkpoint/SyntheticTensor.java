package io.saestream.sae.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;
import java.util.Objects;

/**
 * A float32 tensor of any size whose elements are computed from their flat index (a stateless
 * hash), so that benchmarks and tests can build, export and run multi-gigabyte SAEs without holding
 * or reading their weights. Values are uniform in {@code [-scale, scale)} and depend only on the
 * seed and the index. Immutable and thread-safe; holds nothing but its shape.
 */
public final class SyntheticTensor implements Tensor {

  private final long[] shape;
  private final long seed;
  private final float scale;

  /** A tensor of the given row-major shape whose element {@code i} is {@link #value value(i)}. */
  public SyntheticTensor(long seed, float scale, long... shape) {
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException(
            "shape must be non-negative, was " + Arrays.toString(shape));
      }
    }
    if (!Float.isFinite(scale)) {
      throw new IllegalArgumentException("scale must be finite, was " + scale);
    }
    this.shape = shape.clone();
    this.seed = seed;
    this.scale = scale;
  }

  @Override
  public long[] shape() {
    return shape;
  }

  @Override
  public DType dtype() {
    return DType.F32;
  }

  /** Element {@code i}: the SplitMix64 finaliser of (i, seed) mapped to {@code [-scale, scale)}. */
  public float value(long i) {
    long z = (i + 1) * 0x9E3779B97F4A7C15L + seed;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z ^= z >>> 31;
    return ((z >>> 40) * 0x1.0p-24f * 2f - 1f) * scale;
  }

  @Override
  public void readFloats(long start, float[] dst, int dstOffset, int length) {
    if (start < 0 || length < 0 || start > numel() - length) {
      throw new IndexOutOfBoundsException(
          "elements [" + start + ", " + (start + length) + ") out of range for " + this);
    }
    Objects.checkFromIndexSize(dstOffset, length, dst.length);
    for (int j = 0; j < length; j++) {
      dst[dstOffset + j] = value(start + j);
    }
  }

  @Override
  public void writeRaw(WritableByteChannel out) throws IOException {
    // Direct, so that the channel writes it without another copy; its size is a multiple of 4.
    ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    long n = numel();
    for (long i = 0; i < n; ) {
      buf.clear();
      while (buf.hasRemaining() && i < n) {
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
