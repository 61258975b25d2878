package io.saestream.streams.errors;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A decision that an input record is a dead letter, with everything its headers need. The raw key,
 * value and headers travel with the Kafka record itself. Immutable.
 *
 * @param reason why
 * @param message a human-readable explanation naming the offending field and values
 * @param saeId the SAE the problem concerns, when one does (e.g. a d_in mismatch), else null
 * @param exceptionClass the class of the exception that revealed the problem, else null
 */
public record DeadLetter(
    DeadLetterReason reason,
    String message,
    @Nullable String saeId,
    @Nullable String exceptionClass) {

  /** Validates that reason and message are present. */
  public DeadLetter {
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(message, "message");
  }

  /** A dead letter that concerns no particular SAE and has no exception. */
  public static DeadLetter of(DeadLetterReason reason, String message) {
    return new DeadLetter(reason, message, null, null);
  }

  /** A dead letter revealed by {@code cause}. */
  public static DeadLetter of(DeadLetterReason reason, Throwable cause) {
    return new DeadLetter(
        reason, String.valueOf(cause.getMessage()), null, cause.getClass().getName());
  }

  /** A dead letter about SAE {@code saeId}. */
  public static DeadLetter forSae(DeadLetterReason reason, String message, String saeId) {
    return new DeadLetter(reason, message, saeId, null);
  }
}
