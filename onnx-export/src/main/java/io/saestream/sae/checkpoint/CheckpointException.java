package io.saestream.sae.checkpoint;

import java.nio.file.Path;

/**
 * A checkpoint file that cannot be read, is invalid, or cannot be written. The message always
 * starts with the file (or directory) and then says what is wrong with it, for example {@code
 * /sae/sae_weights.safetensors: tensor 'W_enc' has shape [32, 64] but cfg.json implies [32, 128]}.
 *
 * <p>Unchecked: callers that can do something about a bad checkpoint (the CLI, hot swap) catch it
 * at their boundary; everything else lets it propagate.
 */
public final class CheckpointException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  @SuppressWarnings("serial") // Path is not Serializable; the exception is never serialised
  private final Path file;

  private final String problem;

  /** A problem with {@code file}; {@code problem} says what, without repeating the file. */
  public CheckpointException(Path file, String problem) {
    super(file + ": " + problem);
    this.file = file;
    this.problem = problem;
  }

  /** A problem with {@code file} caused by {@code cause} (typically an {@code IOException}). */
  public CheckpointException(Path file, String problem, Throwable cause) {
    super(file + ": " + problem, cause);
    this.file = file;
    this.problem = problem;
  }

  /** The file or directory the problem is about. */
  public Path file() {
    return file;
  }

  /** The problem, without the file name. */
  public String problem() {
    return problem;
  }
}
