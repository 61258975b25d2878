package io.saestream.schema.checkpoint;

/**
 * A checkpoint archive cannot be written or is not a safe archive of exactly {@code cfg.json} and
 * {@code sae_weights.safetensors} within the size caps. The message says which entry and why.
 */
public final class CheckpointArchiveException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** Creates an exception. */
  public CheckpointArchiveException(String message) {
    super(message);
  }

  /** Creates an exception caused by {@code cause}, typically an {@link java.io.IOException}. */
  public CheckpointArchiveException(String message, Throwable cause) {
    super(message, cause);
  }
}
