package io.saestream.streams.errors;

import io.saestream.schema.registry.SchemaRegistryException;
import io.saestream.schema.serde.WireFormatException;
import io.saestream.streams.inference.InferenceException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RetriableException;

/**
 * Sorts exceptions that escape record processing into the failure classes of the error policy: bad
 * input that reached a defect ({@link #isInfrastructure} false: dead-letter the record and go on)
 * versus infrastructure (fail loudly), and among the latter, transient failures that a fresh stream
 * thread may get past ({@link #isTransient}). Stateless.
 */
public final class Failures {

  /** Causes beyond this depth are ignored, which also ends cause cycles. */
  private static final int MAX_CAUSE_DEPTH = 16;

  private Failures() {}

  /**
   * Whether {@code error} (or a cause) is a failure of something other than the record: the schema
   * registry, ONNX Runtime, Kafka, or a closed/illegal component state.
   */
  public static boolean isInfrastructure(Throwable error) {
    Throwable t = error;
    for (int depth = 0; t != null && depth < MAX_CAUSE_DEPTH; depth++, t = t.getCause()) {
      if (t instanceof WireFormatException || t instanceof UndecodableRecordException) {
        // A SerializationException, hence a KafkaException, but it is the record that is bad.
        return false;
      }
      if (t instanceof SchemaRegistryException
          || t instanceof InferenceException
          || t instanceof KafkaException
          || t instanceof IllegalStateException
          || t instanceof Error) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code error} (or a cause) is a failure that may pass on retry: the registry
   * unreachable, overloaded (HTTP 429) or failing (HTTP 5xx), or a Kafka {@link RetriableException}
   * that Kafka Streams could not absorb itself.
   */
  public static boolean isTransient(Throwable error) {
    Throwable t = error;
    for (int depth = 0; t != null && depth < MAX_CAUSE_DEPTH; depth++, t = t.getCause()) {
      if (t instanceof SchemaRegistryException e) {
        int status = e.httpStatus();
        return status == SchemaRegistryException.NONE || status == 429 || status >= 500;
      }
      if (t instanceof RetriableException) {
        return true;
      }
    }
    return false;
  }
}
