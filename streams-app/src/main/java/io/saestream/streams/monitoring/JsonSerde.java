package io.saestream.streams.monitoring;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * JSON serdes of the monitor's store values (state, not wire contract: the changelogs are internal
 * topics of this app). Stateless and thread-safe.
 */
final class JsonSerde {

  static final ObjectMapper MAPPER =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private JsonSerde() {}

  static <T> Serde<T> of(Class<T> type) {
    Serializer<T> ser =
        (topic, value) -> {
          if (value == null) {
            return null;
          }
          try {
            return MAPPER.writeValueAsBytes(value);
          } catch (IOException e) {
            throw new SerializationException("cannot write " + type.getSimpleName(), e);
          }
        };
    Deserializer<T> de =
        (topic, bytes) -> {
          if (bytes == null) {
            return null;
          }
          try {
            return MAPPER.readValue(bytes, type);
          } catch (IOException e) {
            throw new SerializationException("cannot read " + type.getSimpleName(), e);
          }
        };
    return Serdes.serdeFrom(ser, de);
  }
}
