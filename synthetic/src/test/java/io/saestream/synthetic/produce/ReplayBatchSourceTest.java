package io.saestream.synthetic.produce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.schema.v1.ActivationBatch;
import io.saestream.synthetic.ManualClock;
import io.saestream.synthetic.encoding.ActivationCodec;
import io.saestream.synthetic.encoding.NpyActivationFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplayBatchSourceTest {

  @TempDir Path dir;

  @Test
  void replaysRowsAsSequencesOfRecordsInFileOrder() throws IOException {
    int rows = 10;
    int dIn = 4;
    float[] data = new float[rows * dIn];
    for (int i = 0; i < data.length; i++) {
      data[i] = i / 8f;
    }
    Path file = dir.resolve("acts.npy");
    NpyActivationFile.write(file, data, rows, dIn);
    List<ActivationBatch> batches = new ArrayList<>();
    try (ReplayBatchSource source =
        new ReplayBatchSource(
            NpyActivationFile.open(file),
            TestBatches.TEMPLATE,
            3,
            4,
            "r-",
            ManualClock.at(TestBatches.T0))) {
      for (ActivationBatch b = source.next(); b != null; b = source.next()) {
        batches.add(b);
      }
    }
    // Sequences of 4 rows, records of at most 3 rows within a sequence.
    assertThat(batches)
        .extracting(
            ActivationBatch::getSequenceId,
            ActivationBatch::getStartPosition,
            ActivationBatch::getNTokens)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("r-0", 0, 3),
            org.assertj.core.groups.Tuple.tuple("r-0", 3, 1),
            org.assertj.core.groups.Tuple.tuple("r-1", 0, 3),
            org.assertj.core.groups.Tuple.tuple("r-1", 3, 1),
            org.assertj.core.groups.Tuple.tuple("r-2", 0, 2));
    float[] replayed = new float[0];
    for (ActivationBatch b : batches) {
      assertThat(b.getDIn()).isEqualTo(dIn);
      assertThat(b.getTokens()).isNull();
      assertThat(b.getTokenIds()).isNull();
      assertThat(b.getProducedAt()).isEqualTo(TestBatches.T0);
      float[] values = ActivationCodec.decode(b.getData(), b.getDtype());
      int at = replayed.length;
      replayed = Arrays.copyOf(replayed, at + values.length);
      System.arraycopy(values, 0, replayed, at, values.length);
    }
    assertThat(replayed).containsExactly(data);
  }

  @Test
  void rejectsNonPositiveShapes() throws IOException {
    Path file = dir.resolve("one.npy");
    NpyActivationFile.write(file, new float[] {1}, 1, 1);
    try (NpyActivationFile npy = NpyActivationFile.open(file)) {
      assertThatThrownBy(
              () ->
                  new ReplayBatchSource(
                      npy, TestBatches.TEMPLATE, 0, 4, "r-", ManualClock.at(TestBatches.T0)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("tokens per record must be > 0, was 0");
      assertThatThrownBy(
              () ->
                  new ReplayBatchSource(
                      npy, TestBatches.TEMPLATE, 1, 0, "r-", ManualClock.at(TestBatches.T0)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("sequence length must be > 0, was 0");
    }
  }
}
