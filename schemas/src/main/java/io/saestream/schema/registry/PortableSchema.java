package io.saestream.schema.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.avro.Schema;

/**
 * The schema a serializer registers: a record's schema without the Java-only {@code
 * avro.java.string} properties that Avro's code generator adds. Registries compare schemas by their
 * JSON, so without this a generated class and the {@code .avsc} it came from (as a Python or Go
 * producer registers it) would get two ids and two versions of one contract.
 */
final class PortableSchema {

  static final String JAVA_STRING_PROPERTY = "avro.java.string";

  private static final ObjectMapper JSON = new ObjectMapper();

  private PortableSchema() {}

  static Schema of(Schema schema) {
    String text = schema.toString();
    if (!text.contains(JAVA_STRING_PROPERTY)) {
      return schema;
    }
    try {
      JsonNode tree = JSON.readTree(text);
      strip(tree);
      return new Schema.Parser().parse(JSON.writeValueAsString(tree));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Avro wrote schema JSON that Jackson cannot read", e);
    }
  }

  private static void strip(JsonNode node) {
    if (node instanceof ObjectNode object) {
      object.remove(JAVA_STRING_PROPERTY);
    }
    for (JsonNode child : node) {
      strip(child);
    }
  }
}
