package io.saestream.synthetic.encoding;

import java.io.IOException;
import java.nio.file.Path;

/** A file that is not a float32/float16 {@code [tokens, d_in]} NumPy {@code .npy} array. */
public final class NpyFormatException extends IOException {

  private static final long serialVersionUID = 1L;

  /** A problem with {@code path}, described by {@code problem}. */
  public NpyFormatException(Path path, String problem) {
    super(path + ": " + problem);
  }
}
