package io.saestream.trainer.training;

/** Training cannot go on: ONNX Runtime failed, the device is unusable, or the loss diverged. */
public final class TrainingException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** With a message saying what failed. */
  public TrainingException(String message) {
    super(message);
  }

  /** With a message and the cause. */
  public TrainingException(String message, Throwable cause) {
    super(message, cause);
  }
}
