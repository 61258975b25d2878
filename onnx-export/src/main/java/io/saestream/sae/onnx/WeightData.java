package io.saestream.sae.onnx;

import io.saestream.sae.checkpoint.DType;
import io.saestream.sae.checkpoint.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;

/**
 * The float32 contents of one weight initializer, written as little-endian bytes without ever
 * holding more than a bounded buffer on the heap. Implementations are immutable.
 */
interface WeightData {

  /** Number of float32 elements {@link #writeFloat32} writes. */
  long elementCount();

  /** Writes exactly {@code elementCount() * 4} bytes. */
  void writeFloat32(WritableByteChannel out) throws IOException;

  /** Bytes {@link #writeFloat32} writes. */
  default long byteSize() {
    return elementCount() * Float.BYTES;
  }

  /**
   * A checkpoint tensor; F32 tensors are streamed byte for byte, other dtypes are converted while
   * streaming (F16/BF16 exactly, F64 rounded to nearest).
   */
  static WeightData of(Tensor tensor) {
    return new TensorWeight(tensor);
  }

  /** A small derived vector held on the heap; the array must not be modified afterwards. */
  static WeightData of(float[] values) {
    return new ArrayWeight(values);
  }

  /** Streams a {@link Tensor}. */
  final class TensorWeight implements WeightData {
    private static final int CHUNK_FLOATS = 1 << 16;
    private final Tensor tensor;

    private TensorWeight(Tensor tensor) {
      this.tensor = tensor;
    }

    @Override
    public long elementCount() {
      return tensor.numel();
    }

    @Override
    public void writeFloat32(WritableByteChannel out) throws IOException {
      if (tensor.dtype() == DType.F32) {
        tensor.writeRaw(out);
        return;
      }
      long n = tensor.numel();
      float[] chunk = new float[(int) Math.min(CHUNK_FLOATS, n)];
      ByteBuffer buf =
          ByteBuffer.allocate(chunk.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      for (long start = 0; start < n; start += chunk.length) {
        int len = (int) Math.min(chunk.length, n - start);
        tensor.readFloats(start, chunk, 0, len);
        buf.clear();
        buf.asFloatBuffer().put(chunk, 0, len);
        buf.limit(len * Float.BYTES);
        while (buf.hasRemaining()) {
          out.write(buf);
        }
      }
    }
  }

  /** Writes a heap array. */
  final class ArrayWeight implements WeightData {
    private final float[] values;

    private ArrayWeight(float[] values) {
      this.values = values;
    }

    @Override
    public long elementCount() {
      return values.length;
    }

    @Override
    public void writeFloat32(WritableByteChannel out) throws IOException {
      ByteBuffer buf =
          ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      buf.asFloatBuffer().put(values);
      while (buf.hasRemaining()) {
        out.write(buf);
      }
    }
  }
}
