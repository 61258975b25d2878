package io.saestream.embedded.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.jspecify.annotations.Nullable;

/**
 * The registry's state with Confluent Schema Registry semantics: registry-wide ids from 1, one id
 * per canonical schema whatever the subject, versions from 1 per subject, and a compatibility check
 * (global level, overridable per subject) before a new version is added.
 *
 * <p>Thread-safe: every method holds the store's monitor, so each request sees and leaves a
 * consistent state.
 */
final class SchemaStore {

  /** One version of a subject. */
  record Version(String subject, int version, int id, String schema) {}

  /** Result of a compatibility test. */
  record Compatibility(boolean compatible, List<String> messages) {}

  private final List<Schema> schemasById = new ArrayList<>();
  private final Map<String, Integer> idsByCanonical = new HashMap<>();
  private final Map<String, List<Integer>> idsBySubject = new TreeMap<>();
  private final Map<String, CompatibilityLevel> subjectLevels = new HashMap<>();
  private CompatibilityLevel globalLevel = CompatibilityLevel.BACKWARD;

  /**
   * Registers {@code schemaText} under {@code subject}, or returns its id when the subject has it
   * already.
   */
  synchronized int register(String subject, String schemaText) {
    Schema schema = parse(schemaText);
    String canonical = schema.toString();
    Integer existingId = idsByCanonical.get(canonical);
    List<Integer> ids = idsBySubject.getOrDefault(subject, List.of());
    if (existingId != null && ids.contains(existingId)) {
      return existingId;
    }
    CompatibilityLevel level = levelOf(subject);
    List<String> problems = level.problems(schema, versionsToCheck(subject, level));
    if (!problems.isEmpty()) {
      throw new RegistryException(
          409,
          RegistryException.INCOMPATIBLE_SCHEMA,
          "Schema being registered is incompatible with an earlier schema for subject \""
              + subject
              + "\", details: "
              + problems);
    }
    int id;
    if (existingId != null) {
      id = existingId;
    } else {
      schemasById.add(schema);
      id = schemasById.size();
      idsByCanonical.put(canonical, id);
    }
    idsBySubject.computeIfAbsent(subject, s -> new ArrayList<>()).add(id);
    return id;
  }

  /** Finds {@code schemaText} among the versions of {@code subject}. */
  synchronized Version lookup(String subject, String schemaText) {
    List<Integer> ids = idsOf(subject);
    String canonical = parse(schemaText).toString();
    Integer id = idsByCanonical.get(canonical);
    int index = id == null ? -1 : ids.indexOf(id);
    if (index < 0) {
      throw RegistryException.schemaNotFound("Schema not found");
    }
    return new Version(subject, index + 1, ids.get(index), canonical);
  }

  /** The schema text with registry id {@code id}. */
  synchronized String schemaById(int id) {
    if (id < 1 || id > schemasById.size()) {
      throw RegistryException.schemaNotFound("Schema " + id + " not found");
    }
    return schemasById.get(id - 1).toString();
  }

  /** The highest id handed out, 0 when none. */
  synchronized int maxId() {
    return schemasById.size();
  }

  /** Subjects using the schema with id {@code id}. */
  synchronized List<Version> versionsOfId(int id) {
    String schema = schemaById(id);
    List<Version> versions = new ArrayList<>();
    for (Map.Entry<String, List<Integer>> entry : idsBySubject.entrySet()) {
      int index = entry.getValue().indexOf(id);
      if (index >= 0) {
        versions.add(new Version(entry.getKey(), index + 1, id, schema));
      }
    }
    return versions;
  }

  /** Every subject with at least one version, sorted. */
  synchronized List<String> subjects() {
    return List.copyOf(idsBySubject.keySet());
  }

  /** The version numbers of {@code subject}, 1 to n. */
  synchronized List<Integer> versions(String subject) {
    int count = idsOf(subject).size();
    List<Integer> versions = new ArrayList<>(count);
    for (int v = 1; v <= count; v++) {
      versions.add(v);
    }
    return versions;
  }

  /** Version {@code version} ({@code latest}, {@code -1} or a number) of {@code subject}. */
  synchronized Version version(String subject, String version) {
    int number = parseVersion(version);
    List<Integer> ids = idsOf(subject);
    int index = number == -1 ? ids.size() - 1 : number - 1;
    if (index < 0 || index >= ids.size()) {
      throw new RegistryException(
          404,
          RegistryException.VERSION_NOT_FOUND,
          "Version " + version + " not found for subject '" + subject + "'.");
    }
    int id = ids.get(index);
    return new Version(subject, index + 1, id, schemaById(id));
  }

  /**
   * Tests {@code schemaText} against one version of {@code subject}, or, when {@code version} is
   * null, against the versions its compatibility level checks on registration.
   */
  synchronized Compatibility testCompatibility(
      String subject, @Nullable String version, String schemaText) {
    Schema candidate = parse(schemaText);
    CompatibilityLevel level = levelOf(subject);
    Map<Integer, Schema> against;
    if (version == null) {
      against = versionsToCheck(subject, level);
    } else {
      int number = parseVersion(version);
      if (!idsBySubject.containsKey(subject) && number == -1) {
        // Confluent: anything is compatible with the latest version of an empty subject.
        return new Compatibility(true, List.of());
      }
      Version target = version(subject, version);
      against = Map.of(target.version(), schemasById.get(target.id() - 1));
    }
    List<String> problems = level.problems(candidate, against);
    return new Compatibility(problems.isEmpty(), problems);
  }

  synchronized CompatibilityLevel globalLevel() {
    return globalLevel;
  }

  synchronized void setGlobalLevel(CompatibilityLevel level) {
    globalLevel = level;
  }

  /** The level set on {@code subject} itself, if any. */
  synchronized Optional<CompatibilityLevel> subjectLevel(String subject) {
    return Optional.ofNullable(subjectLevels.get(subject));
  }

  synchronized void setSubjectLevel(String subject, CompatibilityLevel level) {
    subjectLevels.put(subject, level);
  }

  /** Removes the level set on {@code subject} and returns it. */
  synchronized CompatibilityLevel clearSubjectLevel(String subject) {
    CompatibilityLevel removed = subjectLevels.remove(subject);
    if (removed == null) {
      throw notConfigured(subject);
    }
    return removed;
  }

  static RegistryException notConfigured(String subject) {
    return new RegistryException(
        404,
        RegistryException.SUBJECT_COMPATIBILITY_NOT_CONFIGURED,
        "Subject '" + subject + "' does not have subject-level compatibility configured");
  }

  private CompatibilityLevel levelOf(String subject) {
    return subjectLevels.getOrDefault(subject, globalLevel);
  }

  private Map<Integer, Schema> versionsToCheck(String subject, CompatibilityLevel level) {
    List<Integer> ids = idsBySubject.getOrDefault(subject, List.of());
    Map<Integer, Schema> versions = new LinkedHashMap<>();
    int first = level.transitive() ? 0 : Math.max(0, ids.size() - 1);
    for (int index = first; index < ids.size(); index++) {
      versions.put(index + 1, schemasById.get(ids.get(index) - 1));
    }
    return versions;
  }

  private List<Integer> idsOf(String subject) {
    List<Integer> ids = idsBySubject.get(subject);
    if (ids == null) {
      throw RegistryException.subjectNotFound(subject);
    }
    return ids;
  }

  private static int parseVersion(String version) {
    if (version.equals("latest") || version.equals("-1")) {
      return -1;
    }
    long number = version.matches("[0-9]{1,10}") ? Long.parseLong(version) : 0;
    if (number < 1 || number > Integer.MAX_VALUE) {
      throw new RegistryException(
          422,
          RegistryException.INVALID_VERSION,
          "The specified version '"
              + version
              + "' is not a valid version id. Allowed values are between [1, 2^31-1] and the"
              + " string \"latest\"");
    }
    return (int) number;
  }

  private static Schema parse(String schemaText) {
    if (schemaText.isBlank()) {
      throw RegistryException.invalidSchema("empty schema");
    }
    try {
      return new Schema.Parser().parse(schemaText);
    } catch (AvroRuntimeException e) {
      throw RegistryException.invalidSchema(String.valueOf(e.getMessage()));
    }
  }
}
