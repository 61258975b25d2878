package io.saestream.sae.checkpoint;

import java.io.IOException;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;
import java.util.Objects;

/**
 * A read-only, row-major tensor that may live outside the Java heap (memory-mapped from a
 * safetensors file) or be a lazy transformation of another tensor (folding). Tensors can exceed
 * 2^31 bytes, so every index is a {@code long}.
 *
 * <p>Implementations are immutable and safe for concurrent reads. A tensor backed by a mapped file
 * is valid only while that file's {@link SafeTensorsFile} is open.
 */
public interface Tensor {

  /** Element type of the stored bytes ({@link #writeRaw} writes this type). */
  DType dtype();

  /** Shape; a 0-d tensor (scalar) has an empty shape. Callers must not modify the array. */
  long[] shape();

  /** Number of elements (1 for a scalar). */
  default long numel() {
    long n = 1;
    for (long d : shape()) {
      n *= d;
    }
    return n;
  }

  /** Number of bytes {@link #writeRaw} writes: {@code numel() * dtype().byteSize()}. */
  default long byteSize() {
    return numel() * dtype().byteSize();
  }

  /**
   * Reads {@code length} elements starting at flat index {@code start}, converted to float32 (F16
   * and BF16 exactly, F64 rounded to nearest), into {@code dst[dstOffset..]}.
   */
  void readFloats(long start, float[] dst, int dstOffset, int length);

  /**
   * Reads {@code length} elements starting at flat index {@code start} as float64 into {@code
   * dst[dstOffset..]}: F64 exactly, the other types via their exact float32 value. The default
   * widens {@link #readFloats} in bounded blocks.
   */
  default void readDoubles(long start, double[] dst, int dstOffset, int length) {
    Objects.checkFromIndexSize(dstOffset, length, dst.length);
    float[] block = new float[Math.min(length, 1 << 14)];
    int done = 0;
    while (done < length) {
      int n = Math.min(block.length, length - done);
      readFloats(start + done, block, 0, n);
      for (int i = 0; i < n; i++) {
        dst[dstOffset + done + i] = block[i];
      }
      done += n;
    }
  }

  /**
   * Writes the elements as little-endian {@link #dtype()} bytes, streaming: implementations never
   * hold more than a bounded buffer on the heap. A mapped tensor that was not transformed writes
   * its original bytes unchanged (bit-identical round trips).
   */
  void writeRaw(WritableByteChannel out) throws IOException;

  /** All elements as float32 on the heap; only for tensors of fewer than 2^31 elements. */
  default float[] toFloatArray() {
    long n = numel();
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException(
          "tensor of shape " + Arrays.toString(shape()) + " is too large for a Java array");
    }
    float[] out = new float[(int) n];
    readFloats(0, out, 0, out.length);
    return out;
  }
}
