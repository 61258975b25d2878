package io.saestream.trainer.training;

import java.util.Arrays;

/**
 * A bounded shuffle buffer of activation rows: tokens arrive sequence by sequence, and a batch is a
 * uniform sample without replacement of the rows held, so that one long request cannot fill a batch
 * with correlated neighbouring tokens. The caller adds until {@link #isFull()} and then takes
 * batches until the buffer is half empty (sae-lens's "mix, then hand out half" refill policy).
 *
 * <p>The sampling generator is SplitMix64 (the algorithm behind {@link java.util.SplittableRandom})
 * written out so that its one-word state can be saved with the rows ({@link #randomState()}, {@link
 * #restore}): a resumed trainer then draws exactly the batches the uninterrupted one would have.
 *
 * <p>Owns one heap array of {@code capacity·d_in} floats for its lifetime. Not thread-safe: one
 * trainer thread uses it.
 */
public final class MixingBuffer {

  private final int dIn;
  private final int capacity;
  private final float[] rows;
  private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;

  private long randomState;
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
    this.randomState = seed;
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
      int pick = nextIndex(size);
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

  /** A copy of the rows held, row-major {@code [size(), d_in]} (for the durable state). */
  public float[] heldRows() {
    return Arrays.copyOf(rows, size * dIn);
  }

  /** The sampling generator's state (for the durable state). */
  public long randomState() {
    return randomState;
  }

  /**
   * Replaces the content with {@code held} (row-major, a whole number of rows, at most {@link
   * #capacity()}) and the generator state with {@code randomState}, as saved by {@link #heldRows()}
   * and {@link #randomState()}.
   *
   * @throws IllegalArgumentException when {@code held} is not whole rows or exceeds the capacity
   */
  public void restore(float[] held, long randomState) {
    if (held.length % dIn != 0) {
      throw new IllegalArgumentException(
          "saved rows must be a multiple of d_in=" + dIn + " floats, were " + held.length);
    }
    int n = held.length / dIn;
    if (n > capacity) {
      throw new IllegalArgumentException(
          "saved buffer holds " + n + " rows, more than the capacity " + capacity);
    }
    System.arraycopy(held, 0, rows, 0, held.length);
    size = n;
    this.randomState = randomState;
  }

  /** A uniform index in {@code [0, bound)}. */
  private int nextIndex(int bound) {
    randomState += GOLDEN_GAMMA;
    long z = randomState;
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    z ^= z >>> 31;
    // The modulo bias of a 64-bit draw over a bound below 2^31 is under 2^-33: negligible.
    return (int) Long.remainderUnsigned(z, bound);
  }
}
