package io.saestream.streams.errors;

import org.apache.kafka.common.errors.SerializationException;

/**
 * The bytes of a record of one of the app's own binary formats (e.g. a batch summary on the
 * aggregates topic) cannot be decoded: the record is bad, not the infrastructure, so it is
 * dead-lettered as {@link DeadLetterReason#UNDECODABLE} instead of failing the stream thread on it
 * again and again ({@link Failures#isInfrastructure}).
 */
public final class UndecodableRecordException extends SerializationException {

  private static final long serialVersionUID = 1L;

  /** A record that cannot be decoded, and why. */
  public UndecodableRecordException(String message, Throwable cause) {
    super(message, cause);
  }
}
