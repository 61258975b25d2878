package io.saestream.schema.serde;

import java.util.Objects;

/**
 * How a serializer finds the schema id of the records it writes.
 *
 * @param autoRegisterSchemas register a record's schema under its subject when it is not there yet
 *     (Confluent's {@code auto.register.schemas}); when false the schema must already be registered
 *     and a missing one fails the write
 * @param isKey the serializer writes record keys, subject {@code <topic>-key}, rather than values,
 *     subject {@code <topic>-value}
 */
public record AvroSerdeConfig(boolean autoRegisterSchemas, boolean isKey) {

  /** Settings for record values, registering schemas automatically. */
  public static AvroSerdeConfig forValues() {
    return new AvroSerdeConfig(true, false);
  }

  /** Settings for record keys, registering schemas automatically. */
  public static AvroSerdeConfig forKeys() {
    return new AvroSerdeConfig(true, true);
  }

  /** A copy with automatic registration switched on or off. */
  public AvroSerdeConfig withAutoRegisterSchemas(boolean autoRegister) {
    return new AvroSerdeConfig(autoRegister, isKey);
  }

  /** The subject of records of {@code topic} under the TopicNameStrategy. */
  public String subjectFor(String topic) {
    Objects.requireNonNull(topic, "topic");
    if (topic.isEmpty()) {
      throw new IllegalArgumentException("topic must not be empty");
    }
    return topic + (isKey ? "-key" : "-value");
  }
}
