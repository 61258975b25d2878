package io.saestream.schema.registry;

/**
 * A schema-registry request failed: the registry answered with an error, or could not be reached
 * within the configured retries.
 *
 * <p>{@link #errorCode()} is the registry's {@code error_code} (e.g. {@link #SUBJECT_NOT_FOUND});
 * {@link #httpStatus()} is the HTTP status. Both are {@link #NONE} when no answer came back (I/O
 * failure, timeout).
 */
public final class SchemaRegistryException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** Value of {@link #httpStatus()} and {@link #errorCode()} when the registry gave none. */
  public static final int NONE = -1;

  /** The subject has no versions. */
  public static final int SUBJECT_NOT_FOUND = 40401;

  /** The subject has no such version. */
  public static final int VERSION_NOT_FOUND = 40402;

  /** No schema has that id, or the schema is not registered under the subject. */
  public static final int SCHEMA_NOT_FOUND = 40403;

  /** The subject has no subject-level compatibility configured. */
  public static final int SUBJECT_COMPATIBILITY_NOT_CONFIGURED = 40408;

  /** The schema is incompatible with earlier versions under the subject's compatibility level. */
  public static final int INCOMPATIBLE_SCHEMA = 409;

  /** The schema could not be parsed, or is not an Avro schema. */
  public static final int INVALID_SCHEMA = 42201;

  /** The version is neither a positive number nor {@code latest}. */
  public static final int INVALID_VERSION = 42202;

  /** The compatibility level is not one the registry knows. */
  public static final int INVALID_COMPATIBILITY_LEVEL = 42203;

  private final int httpStatus;
  private final int errorCode;

  /** Creates an exception for an error the registry answered with. */
  public SchemaRegistryException(String message, int httpStatus, int errorCode) {
    super(message);
    this.httpStatus = httpStatus;
    this.errorCode = errorCode;
  }

  /** Creates an exception for a request that got no usable answer. */
  public SchemaRegistryException(String message, Throwable cause) {
    super(message, cause);
    this.httpStatus = NONE;
    this.errorCode = NONE;
  }

  /** Creates an exception for an answer that could not be understood. */
  public SchemaRegistryException(String message, int httpStatus, int errorCode, Throwable cause) {
    super(message, cause);
    this.httpStatus = httpStatus;
    this.errorCode = errorCode;
  }

  /** The HTTP status of the registry's answer, or {@link #NONE}. */
  public int httpStatus() {
    return httpStatus;
  }

  /** The registry's {@code error_code}, or {@link #NONE}. */
  public int errorCode() {
    return errorCode;
  }
}
