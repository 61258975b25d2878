package io.saestream.streams.swap;

/**
 * A checkpoint the {@link CheckpointSwapper} refuses; the message says why. Carries the metric tag
 * of the reason. Never escapes the follower.
 */
final class CheckpointRefusedException extends Exception {

  private static final long serialVersionUID = 1L;

  private final String reasonTag;

  CheckpointRefusedException(String reasonTag, String message, Throwable cause) {
    super(message, cause);
    this.reasonTag = reasonTag;
  }

  CheckpointRefusedException(String reasonTag, String message) {
    super(message);
    this.reasonTag = reasonTag;
  }

  String reasonTag() {
    return reasonTag;
  }
}
