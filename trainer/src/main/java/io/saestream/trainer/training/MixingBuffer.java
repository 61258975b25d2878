package io.saestream.trainer.training;

import java.util.SplittableRandom;

/**
 * A bounded shuffle buffer of activation rows: tokens arrive sequence by sequence, and a batch is a
 * uniform sample without replacement of the rows held, so that one long request cannot fill a batch
 * with correlated neighbouring tokens. The caller adds until {@link #isFull()} and then takes
 * batches until the buffer is half empty (sae-lens's "mix, then hand out half" refill policy).
 *
 * <p>Owns one heap array of {@code capacity·d_in} floats for its lifetime. Not thread-safe: one
 * trainer thread uses it.
 */
public final class MixingBuffer {

  private final int dIn;
  private final int capacity;
  private final float[] rows;
  private final SplittableRandom random;
  private int size;

  /**
   * Creates an empty buffer.
   *
   * @param capacity rows held at most, &gt; 0
   * @param dIn width of a row, &gt; 0
   * @param seed seed of the sampling
   */
  public MixingBuffer(int capacity, int dIn, long seed) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity must be > 0, was " + capacity);
    }
    if (dIn <= 0) {
      throw new IllegalArgumentException("d_in must be > 0, was " + dIn);
    }
    if ((long) capacity * dIn > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "capacity × d_in must fit one array, was " + capacity + " × " + dIn);
    }
    this.capacity = capacity;
    this.dIn = dIn;
    this.rows = new float[capacity * dIn];
    this.random = new SplittableRandom(seed);
  }

  /** Rows held now. */
  public int size() {
    return size;
  }

  /** Rows held at most. */
  public int capacity() {
    return capacity;
  }

  /** Free rows. */
  public int free() {
    return capacity - size;
  }

  /** Whether no row can be added. */
  public boolean isFull() {
    return size == capacity;
  }

  /**
   * Copies up to {@code tokens} rows from {@code src[offset..]} (row-major) into the buffer.
   *
   * @return the number of rows added: {@code min(tokens, free())}
   */
  public int add(float[] src, int offset, int tokens) {
    if (tokens < 0) {
      throw new IllegalArgumentException("tokens must be >= 0, was " + tokens);
    }
    int n = Math.min(tokens, free());
    System.arraycopy(src, offset, rows, size * dIn, n * dIn);
    size += n;
    return n;
  }

  /**
   * Removes {@code batch} rows chosen uniformly at random (without replacement) and writes them to
   * {@code dst[0..batch·d_in)}.
   *
   * @throws IllegalStateException when fewer than {@code batch} rows are held
   */
  public void take(float[] dst, int batch) {
    if (batch <= 0 || batch > size) {
      throw new IllegalStateException(
          "cannot take " + batch + " rows from a mixing buffer holding " + size);
    }
    if (dst.length < batch * dIn) {
      throw new IllegalArgumentException(
          "destination holds " + dst.length + " floats, needs " + batch * dIn);
    }
    for (int b = 0; b < batch; b++) {
      int pick = random.nextInt(size);
      System.arraycopy(rows, pick * dIn, dst, b * dIn, dIn);
      // Swap-remove: the last row fills the hole, so the held rows stay contiguous.
      size--;
      if (pick != size) {
        System.arraycopy(rows, size * dIn, rows, pick * dIn, dIn);
      }
    }
  }

  /** Drops every row (e.g. after a reconfiguration); the sampling stream continues. */
  public void clear() {
    size = 0;
  }
}
