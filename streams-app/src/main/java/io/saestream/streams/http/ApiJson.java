package io.saestream.streams.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.saestream.schema.v1.FeatureAlert;
import io.saestream.schema.v1.TokenContext;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The API's JSON: snake_case field names (records are written with their components renamed),
 * UTF-8, and the alert shape of the HTTP contract mapped from FeatureAlert. Thread-safe.
 */
final class ApiJson {

  /** Writes records with snake_case names. */
  static final ObjectMapper MAPPER =
      new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

  private ApiJson() {}

  /** {@code value} as UTF-8 JSON. */
  static byte[] write(Object value) {
    try {
      return MAPPER.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      // Our own records and trees always serialize; this is a defect.
      throw new IllegalStateException("cannot write " + value.getClass().getSimpleName(), e);
    }
  }

  /** Parses a peer's JSON answer. */
  static JsonNode read(String json) {
    try {
      return MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException("a peer answered with invalid JSON", e);
    }
  }

  /** {@code {"error": message}}. */
  static byte[] error(String message) {
    ObjectNode node = object();
    node.put("error", message);
    return write(node);
  }

  static ObjectNode object() {
    return JsonNodeFactory.instance.objectNode();
  }

  /**
   * One alert as the alert feed shows it. {@code sequence_id} is the sequence of a per-sequence
   * rule's alert and null for a per-SAE one; {@code sequence_ids} lists every sequence the alert
   * names.
   */
  static ObjectNode alert(FeatureAlert a, @Nullable String ruleType) {
    ObjectNode n = object();
    n.put("alert_id", a.getAlertId());
    n.put("rule_id", a.getRuleId());
    n.put("rule_type", ruleType);
    n.put("severity", a.getSeverity().name());
    n.put("sae_id", a.getSaeId());
    n.put("sae_version", a.getSaeVersion());
    n.put("model_id", a.getModelId());
    n.put("hook_name", a.getHookName());
    List<String> sequences = a.getSequenceIds();
    boolean perSequence =
        ruleType == null
            ? sequences.size() == 1
            : ruleType.equals("latent-threshold") || ruleType.equals("probe");
    n.put("sequence_id", perSequence && !sequences.isEmpty() ? sequences.get(0) : null);
    ArrayNode ids = n.putArray("sequence_ids");
    sequences.forEach(ids::add);
    n.put("window_start", a.getWindowStart().toEpochMilli());
    n.put("window_end", a.getWindowEnd().toEpochMilli());
    n.put("value", a.getObservedValue());
    n.put("threshold", a.getThreshold());
    ArrayNode latents = n.putArray("latents");
    Integer latent = a.getLatentIndex();
    if (latent != null) {
      latents.add(latent);
    }
    n.put("created_at", a.getCreatedAt().toEpochMilli());
    n.put("message", message(a, ruleType, perSequence ? sequences : List.of()));
    ArrayNode contexts = n.putArray("contexts");
    TokenContext c = a.getTokenContext();
    if (c != null) {
      ObjectNode ctx = contexts.addObject();
      ctx.put("sequence_id", c.getSequenceId());
      ctx.put("position", c.getPosition());
      ArrayNode tokens = ctx.putArray("tokens");
      c.getTokens().forEach(tokens::add);
      ctx.put("highlight", c.getTokens().isEmpty() ? -1 : c.getFocusIndex());
    }
    return n;
  }

  private static String message(FeatureAlert a, @Nullable String ruleType, List<String> sequence) {
    String where = sequence.isEmpty() ? "" : " in sequence " + sequence.get(0);
    String value = number(a.getObservedValue());
    String threshold = number(a.getThreshold());
    Integer latent = a.getLatentIndex();
    if (ruleType == null) {
      return "value " + value + " crossed threshold " + threshold + where;
    }
    return switch (ruleType) {
      case "latent-threshold" ->
          "latent " + latent + " reached " + value + " (threshold " + threshold + ")" + where;
      case "latent-rate" ->
          "latent " + latent + " fired on " + value + " of tokens, above " + threshold;
      case "probe" -> "probe score " + value + " reached threshold " + threshold + where;
      default -> "reconstruction error " + value + " above threshold " + threshold;
    };
  }

  private static String number(double v) {
    return String.format(Locale.ROOT, "%.4g", v);
  }
}
