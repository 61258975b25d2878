package io.saestream.sae.fold;

import io.saestream.sae.checkpoint.DType;
import io.saestream.sae.checkpoint.HalfPrecision;
import io.saestream.sae.checkpoint.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;

/**
 * Streams a computed tensor as little-endian bytes of its dtype, one bounded block at a time (the
 * {@link Tensor#writeRaw} of lazy views). The values a view reads are already representable in its
 * dtype, so encoding is exact. Stateless.
 */
final class RawEncoder {

  private static final int BLOCK = 1 << 16;

  private RawEncoder() {}

  static void stream(Tensor t, WritableByteChannel out) throws IOException {
    DType dtype = t.dtype();
    long n = t.numel();
    int block = (int) Math.min(n, BLOCK);
    // Direct: channels write it without an extra copy; one per stream call, not per block.
    ByteBuffer buf = ByteBuffer.allocateDirect(Math.max(block, 1) * dtype.byteSize());
    buf.order(ByteOrder.LITTLE_ENDIAN);
    if (dtype == DType.F64) {
      double[] values = new double[block];
      for (long start = 0; start < n; start += block) {
        int m = (int) Math.min(block, n - start);
        t.readDoubles(start, values, 0, m);
        buf.clear();
        buf.asDoubleBuffer().put(values, 0, m);
        writeFully(out, buf.limit(m * 8));
      }
      return;
    }
    float[] values = new float[block];
    for (long start = 0; start < n; start += block) {
      int m = (int) Math.min(block, n - start);
      t.readFloats(start, values, 0, m);
      buf.clear();
      switch (dtype) {
        case F32 -> buf.asFloatBuffer().put(values, 0, m);
        case F16 -> {
          for (int i = 0; i < m; i++) {
            buf.putShort(HalfPrecision.floatToF16(values[i]));
          }
        }
        case BF16 -> {
          for (int i = 0; i < m; i++) {
            buf.putShort(HalfPrecision.floatToBf16(values[i]));
          }
        }
        case F64 -> throw new AssertionError("handled above");
      }
      writeFully(out, buf.limit(m * dtype.byteSize()).position(0));
    }
  }

  private static void writeFully(WritableByteChannel out, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      out.write(buf);
    }
  }
}
