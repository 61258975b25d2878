package io.saestream.schema.checkpoint;

/**
 * A checkpoint could not be published: Kafka refused or failed the transaction, or the payload
 * could not be read. The transaction was aborted, so nothing of it is visible to read-committed
 * consumers. When {@link #fatal()} the publisher is closed (another publisher with the same
 * transactional id fenced it, or the producer is unusable) and a new one must be created.
 */
public final class CheckpointPublishException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final boolean fatal;

  /** Creates an exception; {@code fatal} when the publisher can no longer be used. */
  public CheckpointPublishException(String message, boolean fatal, Throwable cause) {
    super(message, cause);
    this.fatal = fatal;
  }

  /** Whether the publisher was closed because of this failure. */
  public boolean fatal() {
    return fatal;
  }
}
