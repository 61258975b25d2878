package io.saestream.trainer.state;

/**
 * A saved state is intact but cannot be resumed with the current configuration (another d_in,
 * d_sae, rule or activation scaling for the same sae-id). Not a corruption: an older generation
 * would not fit either, so the trainer refuses to start rather than silently start over.
 */
public final class IncompatibleStateException extends IllegalStateException {

  private static final long serialVersionUID = 1L;

  /** An incompatibility described by {@code message}. */
  public IncompatibleStateException(String message) {
    super(message);
  }
}
