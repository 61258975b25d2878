package io.saestream.streams.inference;

import io.saestream.sae.checkpoint.HalfPrecision;
import io.saestream.schema.v1.Dtype;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.Objects;

/**
 * A reusable direct float32 buffer that activations are converted into, ready to be handed to ONNX
 * Runtime without a copy. Converts the little-endian F32, F16 and BF16 bytes of an ActivationBatch
 * in bulk, in fixed-size chunks through primitive arrays (no boxing, no per-record garbage), and
 * finds the first non-finite value on the way.
 *
 * <p>Owned by one processor; not thread-safe. The buffer grows to the largest batch seen.
 */
public final class ActivationBuffer {

  /** Elements converted per chunk: large enough for bulk copies, small enough for the L1 cache. */
  static final int CHUNK = 4096;

  /** The most elements a buffer holds: 2 GiB of float32, the limit of a direct buffer. */
  public static final int MAX_ELEMENTS = Integer.MAX_VALUE / Float.BYTES;

  /** binary16 bits → float32, all 65536 of them; exact (see {@link HalfPrecision}). */
  private static final float[] F16_TO_F32 = f16Table();

  private final short[] halfChunk = new short[CHUNK];
  private final float[] floatChunk = new float[CHUNK];
  private FloatBuffer storage =
      ByteBuffer.allocateDirect(0).order(ByteOrder.nativeOrder()).asFloatBuffer();
  private int length;

  /** Bytes per element of {@code dtype}. */
  public static int bytesPerElement(Dtype dtype) {
    return switch (dtype) {
      case F32 -> Float.BYTES;
      case F16, BF16 -> Short.BYTES;
    };
  }

  /**
   * Converts the {@code count} elements of {@code data} (little-endian {@code dtype}, read from its
   * position without moving it) to float32 in this buffer.
   *
   * @return the index of the first NaN or infinite element, or −1 when every element is finite
   * @throws IllegalArgumentException when {@code data} holds fewer than {@code count} elements
   */
  public int load(ByteBuffer data, Dtype dtype, int count) {
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(dtype, "dtype");
    if (count < 0 || count > MAX_ELEMENTS) {
      throw new IllegalArgumentException(
          "count must be in [0, " + MAX_ELEMENTS + "] (2 GiB of float32), was " + count);
    }
    long needed = (long) count * bytesPerElement(dtype);
    if (data.remaining() < needed) {
      throw new IllegalArgumentException(
          "data holds " + data.remaining() + " bytes, " + count + " " + dtype + " need " + needed);
    }
    ensureCapacity(count);
    FloatBuffer target = storage.duplicate();
    target.clear();
    ByteBuffer source = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int firstNonFinite =
        switch (dtype) {
          case F32 -> copyF32(source.asFloatBuffer(), target, count);
          case F16 -> widen(source.asShortBuffer(), target, count, true);
          case BF16 -> widen(source.asShortBuffer(), target, count, false);
        };
    length = count;
    return firstNonFinite;
  }

  /**
   * The values of the last {@link #load}: a direct, native-order buffer positioned at 0 with {@code
   * count} remaining. Valid until the next load.
   */
  public FloatBuffer floats() {
    FloatBuffer view = storage.duplicate();
    view.clear().limit(length);
    return view.slice();
  }

  private int copyF32(FloatBuffer source, FloatBuffer target, int count) {
    int firstNonFinite = -1;
    for (int done = 0; done < count; done += CHUNK) {
      int n = Math.min(CHUNK, count - done);
      source.get(floatChunk, 0, n);
      if (firstNonFinite < 0) {
        int bad = firstNonFinite(floatChunk, n);
        if (bad >= 0) {
          firstNonFinite = done + bad;
        }
      }
      target.put(floatChunk, 0, n);
    }
    return firstNonFinite;
  }

  private int widen(ShortBuffer source, FloatBuffer target, int count, boolean ieeeHalf) {
    int firstNonFinite = -1;
    for (int done = 0; done < count; done += CHUNK) {
      int n = Math.min(CHUNK, count - done);
      source.get(halfChunk, 0, n);
      if (ieeeHalf) {
        for (int i = 0; i < n; i++) {
          floatChunk[i] = F16_TO_F32[halfChunk[i] & 0xffff];
        }
      } else {
        // bfloat16 is the upper half of a float32: widening is a shift.
        for (int i = 0; i < n; i++) {
          floatChunk[i] = Float.intBitsToFloat(halfChunk[i] << 16);
        }
      }
      if (firstNonFinite < 0) {
        int bad = firstNonFinite(floatChunk, n);
        if (bad >= 0) {
          firstNonFinite = done + bad;
        }
      }
      target.put(floatChunk, 0, n);
    }
    return firstNonFinite;
  }

  private static int firstNonFinite(float[] values, int n) {
    for (int i = 0; i < n; i++) {
      // Exponent all ones: infinity or NaN.
      if ((Float.floatToRawIntBits(values[i]) & 0x7f800000) == 0x7f800000) {
        return i;
      }
    }
    return -1;
  }

  private void ensureCapacity(int count) {
    if (storage.capacity() >= count) {
      return;
    }
    long grown = Math.max(count, Math.min(MAX_ELEMENTS, count * 3L / 2));
    storage =
        ByteBuffer.allocateDirect((int) (grown * Float.BYTES))
            .order(ByteOrder.nativeOrder())
            .asFloatBuffer();
  }

  private static float[] f16Table() {
    float[] table = new float[1 << 16];
    for (int bits = 0; bits < table.length; bits++) {
      table[bits] = HalfPrecision.f16ToFloat((short) bits);
    }
    return table;
  }
}
