package io.saestream.trainer.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class MixingBufferTest {

  /** Rows are tagged with their sequence number in column 0. */
  private static float[] sequence(int id, int tokens, int dIn) {
    float[] rows = new float[tokens * dIn];
    for (int t = 0; t < tokens; t++) {
      rows[t * dIn] = id;
      rows[t * dIn + 1] = t;
    }
    return rows;
  }

  @Test
  void oneLongSequenceCannotDominateABatch() {
    int dIn = 2;
    MixingBuffer buffer = new MixingBuffer(1024, dIn, 3);
    // One long request of 512 tokens arrives first, then 8 short ones of 64 tokens each.
    assertThat(buffer.add(sequence(0, 512, dIn), 0, 512)).isEqualTo(512);
    for (int s = 1; s <= 8; s++) {
      buffer.add(sequence(s, 64, dIn), 0, 64);
    }
    assertThat(buffer.isFull()).isTrue();
    float[] batch = new float[128 * dIn];
    buffer.take(batch, 128);
    int[] perSequence = new int[9];
    for (int b = 0; b < 128; b++) {
      perSequence[(int) batch[b * dIn]]++;
    }
    // The long sequence holds half the buffer: its expected share is 64 of 128 rows (sd ≈ 5.7);
    // a FIFO buffer would hand out 128 of its rows. Every short sequence is represented.
    assertThat(perSequence[0]).isBetween(40, 88);
    for (int s = 1; s <= 8; s++) {
      assertThat(perSequence[s]).as("sequence %d", s).isPositive();
    }
    assertThat(buffer.size()).isEqualTo(1024 - 128);
  }

  @Test
  void takenRowsAreRemovedWithoutDuplicates() {
    MixingBuffer buffer = new MixingBuffer(64, 2, 5);
    buffer.add(sequence(0, 64, 2), 0, 64);
    float[] all = new float[64 * 2];
    buffer.take(all, 64);
    boolean[] seen = new boolean[64];
    for (int b = 0; b < 64; b++) {
      int t = (int) all[b * 2 + 1];
      assertThat(seen[t]).as("row %d taken twice", t).isFalse();
      seen[t] = true;
    }
    assertThat(buffer.size()).isZero();
  }

  @Test
  void addStopsAtCapacity() {
    MixingBuffer buffer = new MixingBuffer(10, 2, 1);
    assertThat(buffer.add(sequence(0, 25, 2), 0, 25)).isEqualTo(10);
    assertThat(buffer.free()).isZero();
  }

  @Test
  void takingMoreThanHeldFails() {
    MixingBuffer buffer = new MixingBuffer(10, 2, 1);
    buffer.add(sequence(0, 4, 2), 0, 4);
    assertThatThrownBy(() -> buffer.take(new float[20], 5))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cannot take 5 rows from a mixing buffer holding 4");
  }

  @Test
  void aRestoredBufferDrawsWhatTheSavedOneWouldHave() {
    MixingBuffer saved = new MixingBuffer(64, 2, 9);
    saved.add(sequence(0, 40, 2), 0, 40);
    saved.take(new float[10 * 2], 10);
    MixingBuffer restored = new MixingBuffer(64, 2, 12345);
    restored.restore(saved.heldRows(), saved.randomState());
    assertThat(restored.size()).isEqualTo(30);
    float[] a = new float[20 * 2];
    float[] b = new float[20 * 2];
    saved.take(a, 20);
    restored.take(b, 20);
    assertThat(b).isEqualTo(a);
    assertThat(restored.heldRows()).isEqualTo(saved.heldRows());
  }

  @Test
  void aSavedBufferThatDoesNotFitIsRefused() {
    MixingBuffer buffer = new MixingBuffer(4, 2, 1);
    assertThatThrownBy(() -> buffer.restore(new float[3], 0))
        .hasMessageContaining("saved rows must be a multiple of d_in=2 floats, were 3");
    assertThatThrownBy(() -> buffer.restore(new float[10], 0))
        .hasMessageContaining("saved buffer holds 5 rows, more than the capacity 4");
  }

  @Test
  void invalidShapesAreRefused() {
    assertThatThrownBy(() -> new MixingBuffer(0, 2, 1))
        .hasMessageContaining("capacity must be > 0, was 0");
    assertThatThrownBy(() -> new MixingBuffer(4, -3, 1))
        .hasMessageContaining("d_in must be > 0, was -3");
  }
}
