package io.saestream.trainer.app;

import io.saestream.schema.v1.Dtype;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Converts the little-endian {@code data} of an ActivationBatch into floats. Stateless. */
final class ActivationRows {

  private ActivationRows() {}

  /** Bytes per value of {@code dtype}. */
  static int bytesPer(Dtype dtype) {
    return dtype == Dtype.F32 ? 4 : 2;
  }

  /**
   * Decodes {@code count} values of {@code dtype} from {@code data} (not consumed) into {@code
   * dst}.
   *
   * @return false when a value is NaN or infinite
   */
  static boolean decode(Dtype dtype, ByteBuffer data, int count, float[] dst) {
    ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int base = b.position();
    boolean finite = true;
    for (int i = 0; i < count; i++) {
      float v =
          switch (dtype) {
            case F32 -> b.getFloat(base + 4 * i);
            case F16 -> halfToFloat(b.getShort(base + 2 * i));
            case BF16 -> Float.intBitsToFloat((b.getShort(base + 2 * i) & 0xffff) << 16);
          };
      if (!Float.isFinite(v)) {
        finite = false;
      }
      dst[i] = v;
    }
    return finite;
  }

  /** IEEE 754 binary16 to float, subnormals included (Java 17 lacks Float.float16ToFloat). */
  static float halfToFloat(short half) {
    int h = half & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      float v = mant * 0x1p-24f;
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }
}
