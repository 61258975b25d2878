package io.saestream.trainer.state;

/**
 * A saved state generation failed its integrity checks (missing or unreadable manifest, missing,
 * truncated or altered tensor file, malformed content); the store then falls back to the previous
 * generation. Thrown and caught inside this package only.
 */
final class CorruptStateException extends Exception {

  private static final long serialVersionUID = 1L;

  CorruptStateException(String message) {
    super(message);
  }

  CorruptStateException(String message, Throwable cause) {
    super(message, cause);
  }
}
