package io.saestream.sae.fold;

import io.saestream.sae.checkpoint.DType;
import io.saestream.sae.checkpoint.Tensor;
import java.io.IOException;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor whose elements all equal one value (e.g. the JumpReLU threshold a BatchTopK SAE is saved
 * with), computed on read. The value must be representable in the dtype. Immutable.
 */
final class ConstantTensor implements Tensor {

  private final DType dtype;
  private final long[] shape;
  private final double value;

  ConstantTensor(DType dtype, long[] shape, double value) {
    this.dtype = dtype;
    this.shape = shape.clone();
    this.value = value;
  }

  @Override
  public DType dtype() {
    return dtype;
  }

  @Override
  public long[] shape() {
    return shape;
  }

  @Override
  public void readFloats(long start, float[] dst, int dstOffset, int length) {
    checkRange(start, length);
    Objects.checkFromIndexSize(dstOffset, length, dst.length);
    Arrays.fill(dst, dstOffset, dstOffset + length, (float) value);
  }

  @Override
  public void readDoubles(long start, double[] dst, int dstOffset, int length) {
    checkRange(start, length);
    Objects.checkFromIndexSize(dstOffset, length, dst.length);
    Arrays.fill(dst, dstOffset, dstOffset + length, value);
  }

  @Override
  public void writeRaw(WritableByteChannel out) throws IOException {
    RawEncoder.stream(this, out);
  }

  private void checkRange(long start, int length) {
    if (start < 0 || length < 0 || start > numel() - length) {
      throw new IndexOutOfBoundsException(
          "elements [" + start + ", " + (start + length) + ") out of range for " + this);
    }
  }

  @Override
  public String toString() {
    return "ConstantTensor[" + dtype + Arrays.toString(shape) + " = " + value + "]";
  }
}
