package io.saestream.trainer.state;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;

/**
 * The {@code manifest.json} of a state generation: which tensor file holds which SAE, with its size
 * and SHA-256, the consumer positions, and a summary (step, tokens, last version) readable without
 * loading the tensors. Immutable.
 *
 * @param generation the generation number, equal to its directory's
 * @param savedAt when the states were taken
 * @param positions per partition, the offset of the next record to read
 * @param saes one entry per SAE
 */
public record StateManifest(
    long generation, Instant savedAt, Map<TopicPartition, Long> positions, List<Entry> saes) {

  /** The {@code format} value of this layout. */
  public static final String FORMAT = "sae-stream-trainer-state-manifest/1";

  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern FILE = Pattern.compile("sae-[0-9]+\\.safetensors");

  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(SerializationFeature.INDENT_OUTPUT)
          .build();

  /** Validates and copies. */
  public StateManifest {
    Objects.requireNonNull(savedAt, "savedAt");
    positions = Map.copyOf(positions);
    saes = List.copyOf(saes);
    if (generation < 1) {
      throw new IllegalArgumentException("generation must be >= 1, was " + generation);
    }
  }

  /**
   * One SAE's file.
   *
   * @param saeId the SAE
   * @param file the tensor file's name in the generation directory
   * @param bytes its size
   * @param sha256 its SHA-256, lowercase hex
   * @param step optimizer steps in the state
   * @param tokensTrained tokens those steps consumed
   * @param tokensSeen tokens offered to the trainer (trained, held out, buffered)
   * @param lastVersion the highest version handed out so far
   */
  public record Entry(
      String saeId,
      String file,
      long bytes,
      String sha256,
      long step,
      long tokensTrained,
      long tokensSeen,
      long lastVersion) {

    /** Validates. */
    public Entry {
      Objects.requireNonNull(saeId, "saeId");
      if (!FILE.matcher(file).matches()) {
        throw new IllegalArgumentException("file must be sae-<n>.safetensors, was " + file);
      }
      if (!SHA256.matcher(sha256).matches()) {
        throw new IllegalArgumentException("sha256 must be 64 lowercase hex digits, was " + sha256);
      }
      if (bytes < 0 || step < 0 || tokensTrained < 0 || tokensSeen < 0 || lastVersion < 0) {
        throw new IllegalArgumentException(
            "bytes, step, tokens and last_version must be >= 0 in the entry of " + saeId);
      }
    }
  }

  /** The entry of {@code saeId}, or null. */
  public @Nullable Entry entry(String saeId) {
    for (Entry e : saes) {
      if (e.saeId().equals(saeId)) {
        return e;
      }
    }
    return null;
  }

  /** The JSON text, UTF-8. */
  byte[] toJson() {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    root.put("generation", generation);
    root.put("saved_at", savedAt.toString());
    ArrayNode pos = root.putArray("positions");
    positions.entrySet().stream()
        .sorted(
            (a, b) ->
                a.getKey().topic().equals(b.getKey().topic())
                    ? Integer.compare(a.getKey().partition(), b.getKey().partition())
                    : a.getKey().topic().compareTo(b.getKey().topic()))
        .forEach(
            e ->
                pos.addObject()
                    .put("topic", e.getKey().topic())
                    .put("partition", e.getKey().partition())
                    .put("offset", e.getValue()));
    ArrayNode list = root.putArray("saes");
    for (Entry e : saes) {
      list.addObject()
          .put("sae_id", e.saeId())
          .put("file", e.file())
          .put("bytes", e.bytes())
          .put("sha256", e.sha256())
          .put("step", e.step())
          .put("tokens_trained", e.tokensTrained())
          .put("tokens_seen", e.tokensSeen())
          .put("last_version", e.lastVersion());
    }
    try {
      return JSON.writeValueAsBytes(root);
    } catch (JacksonException e) {
      throw new IllegalStateException("cannot write a manifest tree: " + e, e);
    }
  }

  /**
   * Parses a manifest.
   *
   * @throws IllegalArgumentException naming the problem when {@code json} is not a valid manifest
   */
  static StateManifest parse(byte[] json) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JacksonException e) {
      throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new IllegalArgumentException("not readable: " + e, e);
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("not a JSON object");
    }
    String format = text(root, "format");
    if (!FORMAT.equals(format)) {
      throw new IllegalArgumentException("format is " + format + ", expected " + FORMAT);
    }
    Instant savedAt;
    try {
      savedAt = Instant.parse(text(root, "saved_at"));
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("saved_at is not an instant", e);
    }
    Map<TopicPartition, Long> positions = new HashMap<>();
    for (JsonNode p : array(root, "positions")) {
      positions.put(
          new TopicPartition(text(p, "topic"), (int) number(p, "partition")), number(p, "offset"));
    }
    List<Entry> entries = new ArrayList<>();
    for (JsonNode e : array(root, "saes")) {
      entries.add(
          new Entry(
              text(e, "sae_id"),
              text(e, "file"),
              number(e, "bytes"),
              text(e, "sha256"),
              number(e, "step"),
              number(e, "tokens_trained"),
              number(e, "tokens_seen"),
              number(e, "last_version")));
    }
    return new StateManifest(number(root, "generation"), savedAt, positions, entries);
  }

  private static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    if (v == null || !v.isTextual()) {
      throw new IllegalArgumentException(field + " must be a string");
    }
    return v.asText();
  }

  private static long number(JsonNode node, String field) {
    JsonNode v = node.get(field);
    if (v == null || !v.isIntegralNumber() || !v.canConvertToLong()) {
      throw new IllegalArgumentException(field + " must be an integer");
    }
    return v.asLong();
  }

  private static Iterable<JsonNode> array(JsonNode node, String field) {
    JsonNode v = node.get(field);
    if (v == null || !v.isArray()) {
      throw new IllegalArgumentException(field + " must be an array");
    }
    return v;
  }
}
