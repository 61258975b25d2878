/**
 * Kafka serializers and deserializers for Avro records in the Confluent wire format (magic byte 0,
 * 4-byte big-endian schema id, Avro binary), with schemas registered under {@code <topic>-value} or
 * {@code <topic>-key} (TopicNameStrategy).
 *
 * <p>Failures to decode a record are {@link io.saestream.schema.serde.WireFormatException}s, one
 * subclass and one {@link io.saestream.schema.serde.WireFormatException.Reason} per cause, so that
 * an application can route them to a dead-letter topic with a reason. Registry failures are {@link
 * io.saestream.schema.registry.SchemaRegistryException}s: infrastructure, not bad data.
 */
package io.saestream.schema.serde;
