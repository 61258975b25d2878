package io.saestream.embedded.registry;

/** A request the registry refuses, answered with an HTTP status and a Confluent error code. */
final class RegistryException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  static final int SUBJECT_NOT_FOUND = 40401;
  static final int VERSION_NOT_FOUND = 40402;
  static final int SCHEMA_NOT_FOUND = 40403;
  static final int SUBJECT_COMPATIBILITY_NOT_CONFIGURED = 40408;
  static final int INCOMPATIBLE_SCHEMA = 409;
  static final int INVALID_SCHEMA = 42201;
  static final int INVALID_VERSION = 42202;
  static final int INVALID_COMPATIBILITY_LEVEL = 42203;

  private final int httpStatus;
  private final int errorCode;

  RegistryException(int httpStatus, int errorCode, String message) {
    super(message);
    this.httpStatus = httpStatus;
    this.errorCode = errorCode;
  }

  static RegistryException subjectNotFound(String subject) {
    return new RegistryException(404, SUBJECT_NOT_FOUND, "Subject '" + subject + "' not found.");
  }

  static RegistryException schemaNotFound(String detail) {
    return new RegistryException(404, SCHEMA_NOT_FOUND, detail);
  }

  static RegistryException invalidSchema(String detail) {
    return new RegistryException(422, INVALID_SCHEMA, "Invalid schema: " + detail);
  }

  int httpStatus() {
    return httpStatus;
  }

  int errorCode() {
    return errorCode;
  }
}
