package io.saestream.streams.errors;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The headers sae-stream adds to a dead-letter record, after the original record's headers. Every
 * value is UTF-8 text; numbers are decimal. Key and value are the original bytes, unchanged, so a
 * fixed record can be replayed by copying it back to the input topic.
 */
public final class DeadLetterHeaders {

  /** {@link DeadLetterReason} constant name, e.g. {@code NON_FINITE_VALUES}. */
  public static final String REASON = "sae.dlq.reason";

  /** Human-readable explanation. */
  public static final String MESSAGE = "sae.dlq.message";

  /** Topic of the original record. */
  public static final String SOURCE_TOPIC = "sae.dlq.source.topic";

  /** Partition of the original record. */
  public static final String SOURCE_PARTITION = "sae.dlq.source.partition";

  /** Offset of the original record. */
  public static final String SOURCE_OFFSET = "sae.dlq.source.offset";

  /** The SAE the problem concerns; only present when one does. */
  public static final String SAE_ID = "sae.dlq.sae.id";

  /** Class of the exception that revealed the problem; only present when there was one. */
  public static final String EXCEPTION = "sae.dlq.exception";

  /** Every header name above. */
  public static final List<String> ALL =
      List.of(REASON, MESSAGE, SOURCE_TOPIC, SOURCE_PARTITION, SOURCE_OFFSET, SAE_ID, EXCEPTION);

  /** Header values are cut to this many characters (messages can quote user data). */
  static final int MAX_MESSAGE_CHARS = 1000;

  private DeadLetterHeaders() {}

  /**
   * Appends the dead-letter headers of {@code letter} for a record read from {@code topic}, {@code
   * partition}, {@code offset} to {@code headers}, replacing earlier dead-letter headers (a record
   * replayed from the dead-letter topic and failing again carries only the latest reason).
   */
  public static Headers append(
      Headers headers, DeadLetter letter, String topic, int partition, long offset) {
    for (String name : ALL) {
      headers.remove(name);
    }
    put(headers, REASON, letter.reason().name());
    put(headers, MESSAGE, truncate(letter.message()));
    put(headers, SOURCE_TOPIC, topic);
    put(headers, SOURCE_PARTITION, Integer.toString(partition));
    put(headers, SOURCE_OFFSET, Long.toString(offset));
    String saeId = letter.saeId();
    if (saeId != null) {
      put(headers, SAE_ID, saeId);
    }
    String exception = letter.exceptionClass();
    if (exception != null) {
      put(headers, EXCEPTION, exception);
    }
    return headers;
  }

  /**
   * A copy of {@code headers} without dead-letter headers, for output records: a record replayed
   * from the dead-letter topic must not carry its old verdict into the outputs.
   */
  public static Headers without(Headers headers) {
    RecordHeaders copy = new RecordHeaders(headers.toArray());
    for (String name : ALL) {
      copy.remove(name);
    }
    return copy;
  }

  private static void put(Headers headers, String name, String value) {
    headers.add(name, value.getBytes(StandardCharsets.UTF_8));
  }

  private static String truncate(String message) {
    return message.length() <= MAX_MESSAGE_CHARS
        ? message
        : message.substring(0, MAX_MESSAGE_CHARS) + "…";
  }
}
