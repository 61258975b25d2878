package io.saestream.embedded.registry;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

/** Confluent compatibility levels and the Avro reader/writer checks each one implies. */
enum CompatibilityLevel {
  NONE(false, false, false),
  BACKWARD(true, false, false),
  BACKWARD_TRANSITIVE(true, false, true),
  FORWARD(false, true, false),
  FORWARD_TRANSITIVE(false, true, true),
  FULL(true, true, false),
  FULL_TRANSITIVE(true, true, true);

  private final boolean newReadsOld;
  private final boolean oldReadsNew;
  private final boolean transitive;

  CompatibilityLevel(boolean newReadsOld, boolean oldReadsNew, boolean transitive) {
    this.newReadsOld = newReadsOld;
    this.oldReadsNew = oldReadsNew;
    this.transitive = transitive;
  }

  static CompatibilityLevel parse(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new RegistryException(
          422,
          RegistryException.INVALID_COMPATIBILITY_LEVEL,
          "Invalid compatibility level. Valid values are none, backward, forward, full,"
              + " backward_transitive, forward_transitive, and full_transitive; was '"
              + name
              + "'");
    }
  }

  /** Whether registration checks every earlier version rather than only the latest. */
  boolean transitive() {
    return transitive;
  }

  /**
   * Why {@code candidate} may not follow the given earlier versions (version number to schema);
   * empty when it may.
   */
  List<String> problems(Schema candidate, Map<Integer, Schema> earlier) {
    List<String> problems = new ArrayList<>();
    for (Map.Entry<Integer, Schema> old : earlier.entrySet()) {
      String version = "version " + old.getKey();
      if (newReadsOld) {
        describe(problems, candidate, "the new schema", old.getValue(), version);
      }
      if (oldReadsNew) {
        describe(problems, old.getValue(), version, candidate, "the new schema");
      }
    }
    return problems;
  }

  private static void describe(
      List<String> problems, Schema reader, String readerName, Schema writer, String writerName) {
    SchemaCompatibility.SchemaPairCompatibility result =
        SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
    if (result.getType() == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
      return;
    }
    for (SchemaCompatibility.Incompatibility incompatibility :
        result.getResult().getIncompatibilities()) {
      problems.add(
          "{errorType:'"
              + incompatibility.getType()
              + "', location:'"
              + incompatibility.getLocation()
              + "', description:'"
              + incompatibility.getMessage()
              + " (reader: "
              + readerName
              + ", writer: "
              + writerName
              + ")'}");
    }
  }
}
