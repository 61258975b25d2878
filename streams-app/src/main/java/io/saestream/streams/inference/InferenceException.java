package io.saestream.streams.inference;

/**
 * ONNX Runtime failed: a session could not be created or a run failed. Infrastructure, not bad
 * input: the record that was being processed is not to blame, so it is never dead-lettered for
 * this; the stream thread fails and the uncaught-exception policy decides. Wraps the checked {@code
 * OrtException} once, at the adapter boundary.
 */
public final class InferenceException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** Creates an exception with {@code message} explaining what was attempted. */
  public InferenceException(String message, Throwable cause) {
    super(message, cause);
  }

  /** Creates an exception without an underlying cause. */
  public InferenceException(String message) {
    super(message);
  }
}
