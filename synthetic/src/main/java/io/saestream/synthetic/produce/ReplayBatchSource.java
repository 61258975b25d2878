package io.saestream.synthetic.produce;

import io.saestream.schema.v1.ActivationBatch;
import io.saestream.synthetic.encoding.NpyActivationFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Records replayed from a recorded {@code .npy} activation file ({@link NpyActivationFile}): rows
 * are consecutive tokens; every {@code sequenceLength} rows form one sequence with id {@code
 * <prefix><n>}; each record holds up to {@code tokensPerRecord} rows of one sequence. Records carry
 * no token texts or ids; {@code produced_at} is the clock's reading. The source owns the file and
 * closes it. Not thread-safe.
 */
public final class ReplayBatchSource implements BatchSource {

  private final NpyActivationFile file;
  private final ActivationBatchTemplate template;
  private final int tokensPerRecord;
  private final int sequenceLength;
  private final String sequenceIdPrefix;
  private final Clock clock;
  private final float[] buffer;
  private long sequence;
  private int position;

  /**
   * Replays {@code file}, which this source now owns.
   *
   * @throws IllegalArgumentException for a non-positive record size or sequence length
   */
  public ReplayBatchSource(
      NpyActivationFile file,
      ActivationBatchTemplate template,
      int tokensPerRecord,
      int sequenceLength,
      String sequenceIdPrefix,
      Clock clock) {
    this.file = Objects.requireNonNull(file, "file");
    this.template = Objects.requireNonNull(template, "template");
    this.sequenceIdPrefix = Objects.requireNonNull(sequenceIdPrefix, "sequenceIdPrefix");
    this.clock = Objects.requireNonNull(clock, "clock");
    if (tokensPerRecord <= 0) {
      throw new IllegalArgumentException("tokens per record must be > 0, was " + tokensPerRecord);
    }
    if (sequenceLength <= 0) {
      throw new IllegalArgumentException("sequence length must be > 0, was " + sequenceLength);
    }
    if ((long) tokensPerRecord * file.dIn() > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "tokens per record × d_in is too large: " + tokensPerRecord + " × " + file.dIn());
    }
    this.tokensPerRecord = tokensPerRecord;
    this.sequenceLength = sequenceLength;
    this.buffer = new float[tokensPerRecord * file.dIn()];
  }

  @Override
  public @Nullable ActivationBatch next() {
    int want = Math.min(tokensPerRecord, sequenceLength - position);
    int rows;
    try {
      rows = file.read(buffer, want);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file.path(), e);
    }
    if (rows == 0) {
      return null;
    }
    ActivationBatch batch =
        template.build(
            sequenceIdPrefix + sequence,
            position,
            buffer,
            rows,
            file.dIn(),
            null,
            null,
            clock.instant());
    position += rows;
    if (position >= sequenceLength) {
      sequence++;
      position = 0;
    }
    return batch;
  }

  @Override
  public void close() {
    try {
      file.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close " + file.path(), e);
    }
  }
}
