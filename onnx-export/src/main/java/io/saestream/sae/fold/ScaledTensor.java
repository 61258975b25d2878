package io.saestream.sae.fold;

import io.saestream.sae.checkpoint.DType;
import io.saestream.sae.checkpoint.HalfPrecision;
import io.saestream.sae.checkpoint.Tensor;
import java.io.IOException;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;
import java.util.Objects;

/**
 * A lazy view of a tensor with every element multiplied or divided by a factor: one for the whole
 * tensor, one per row (dim 0 of a matrix), or one per column (last dim; per element of a vector).
 * Nothing is copied: each read reads the source and computes, so folding a multi-GB SAE costs only
 * the factor arrays.
 *
 * <p>Arithmetic follows torch on the stored dtype: F32 is one correctly rounded float32 multiply or
 * divide of float32 operands (a true division, not a multiplication by the reciprocal); F16/BF16
 * compute in float32 and round to the dtype (torch's opmath); F64 computes in float64. Factors are
 * given as doubles and used as {@code (float) factor} for non-F64 tensors, so callers pass values
 * already rounded the way torch would have them. Immutable and thread-safe; valid while its source
 * is.
 */
final class ScaledTensor implements Tensor {

  /** Which factor applies to an element. */
  enum Axis {
    ALL,
    ROWS,
    COLUMNS
  }

  /** What the factor does. */
  enum Op {
    MULTIPLY,
    DIVIDE
  }

  private static final int BLOCK = 1 << 13;

  private final Tensor source;
  private final Axis axis;
  private final Op op;
  private final double[] factors;
  private final float[] floatFactors;
  private final long columns;

  private ScaledTensor(Tensor source, Axis axis, Op op, double[] factors) {
    long[] shape = source.shape();
    long expected;
    switch (axis) {
      case ALL -> expected = 1;
      case ROWS -> {
        if (shape.length != 2) {
          throw new IllegalArgumentException(
              "row factors need a matrix, got shape " + Arrays.toString(shape));
        }
        expected = shape[0];
      }
      case COLUMNS -> {
        if (shape.length != 1 && shape.length != 2) {
          throw new IllegalArgumentException(
              "column factors need a vector or matrix, got shape " + Arrays.toString(shape));
        }
        expected = shape[shape.length - 1];
      }
      default -> throw new AssertionError(axis);
    }
    if (factors.length != expected) {
      throw new IllegalArgumentException(
          axis
              + " factors for shape "
              + Arrays.toString(shape)
              + " need "
              + expected
              + " values, got "
              + factors.length);
    }
    this.source = source;
    this.axis = axis;
    this.op = op;
    this.factors = factors.clone();
    this.floatFactors = new float[factors.length];
    for (int i = 0; i < factors.length; i++) {
      floatFactors[i] = (float) factors[i];
    }
    this.columns = shape.length == 0 ? 1 : shape[shape.length - 1];
  }

  /** Every element {@code op} {@code factor}. */
  static ScaledTensor all(Tensor source, Op op, double factor) {
    return new ScaledTensor(source, Axis.ALL, op, new double[] {factor});
  }

  /** Element {@code [r, c]} {@code op} {@code factors[r]}. */
  static ScaledTensor rows(Tensor source, Op op, double[] factors) {
    return new ScaledTensor(source, Axis.ROWS, op, factors);
  }

  /** Element {@code [.., c]} {@code op} {@code factors[c]}. */
  static ScaledTensor columns(Tensor source, Op op, double[] factors) {
    return new ScaledTensor(source, Axis.COLUMNS, op, factors);
  }

  @Override
  public DType dtype() {
    return source.dtype();
  }

  @Override
  public long[] shape() {
    return source.shape();
  }

  @Override
  public long numel() {
    return source.numel();
  }

  @Override
  public void readFloats(long start, float[] dst, int dstOffset, int length) {
    Objects.checkFromIndexSize(dstOffset, length, dst.length);
    if (length == 0) {
      return;
    }
    DType dtype = source.dtype();
    if (dtype == DType.F64) {
      double[] block = new double[Math.min(length, BLOCK)];
      for (int done = 0; done < length; ) {
        int n = Math.min(block.length, length - done);
        readDoubles(start + done, block, 0, n);
        for (int i = 0; i < n; i++) {
          dst[dstOffset + done + i] = (float) block[i];
        }
        done += n;
      }
      return;
    }
    source.readFloats(start, dst, dstOffset, length);
    // Walk the range in runs that share one factor (ROWS, ALL) or one factor row (COLUMNS), so
    // the inner loops are plain array loops the JIT vectorises.
    int done = 0;
    long col = start % columns;
    long row = start / columns;
    while (done < length) {
      int run = (int) Math.min(length - done, columns - col);
      int at = dstOffset + done;
      switch (axis) {
        case ALL -> {
          run = length - done;
          apply(dst, at, run, floatFactors[0]);
        }
        case ROWS -> apply(dst, at, run, floatFactors[(int) row]);
        case COLUMNS -> apply(dst, at, run, floatFactors, (int) col);
      }
      done += run;
      col = 0;
      row++;
    }
    if (dtype == DType.F16 || dtype == DType.BF16) {
      for (int i = dstOffset; i < dstOffset + length; i++) {
        dst[i] = HalfPrecision.roundTo(dtype, dst[i]);
      }
    }
  }

  private void apply(float[] v, int from, int n, float f) {
    if (op == Op.MULTIPLY) {
      for (int i = from; i < from + n; i++) {
        v[i] *= f;
      }
    } else {
      for (int i = from; i < from + n; i++) {
        v[i] /= f;
      }
    }
  }

  private void apply(float[] v, int from, int n, float[] f, int f0) {
    if (op == Op.MULTIPLY) {
      for (int i = 0; i < n; i++) {
        v[from + i] *= f[f0 + i];
      }
    } else {
      for (int i = 0; i < n; i++) {
        v[from + i] /= f[f0 + i];
      }
    }
  }

  @Override
  public void readDoubles(long start, double[] dst, int dstOffset, int length) {
    if (source.dtype() != DType.F64) {
      Tensor.super.readDoubles(start, dst, dstOffset, length);
      return;
    }
    if (length == 0) {
      return;
    }
    source.readDoubles(start, dst, dstOffset, length);
    boolean multiply = op == Op.MULTIPLY;
    long row = start / columns;
    long col = start % columns;
    for (int i = 0; i < length; i++) {
      double f = factors[factorIndex(row, col)];
      dst[dstOffset + i] = multiply ? dst[dstOffset + i] * f : dst[dstOffset + i] / f;
      if (++col == columns) {
        col = 0;
        row++;
      }
    }
  }

  @Override
  public void writeRaw(WritableByteChannel out) throws IOException {
    RawEncoder.stream(this, out);
  }

  private int factorIndex(long row, long col) {
    return switch (axis) {
      case ALL -> 0;
      case ROWS -> (int) row;
      case COLUMNS -> (int) col;
    };
  }

  @Override
  public String toString() {
    return "ScaledTensor[" + source + " " + op + " per " + axis + "]";
  }
}
