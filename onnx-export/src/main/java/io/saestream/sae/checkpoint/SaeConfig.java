package io.saestream.sae.checkpoint;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * The parsed {@code cfg.json} of a sae-lens SAE.
 *
 * <p>The typed accessors cover every field sae-lens 6.x defines for the supported architectures;
 * the original JSON object is kept verbatim (field order included) so that writing a checkpoint
 * back preserves fields we do not interpret. Fields we do not know are listed by {@link
 * #unknownFields()} and are never fatal. Immutable and thread-safe.
 */
public final class SaeConfig {

  /**
   * Accepts what Python's {@code json.dump} writes (NaN, Infinity) but rejects duplicate keys and
   * trailing garbage, which Python would resolve silently or reject.
   */
  private static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  /**
   * Fields only sae-lens training configs carry ({@code TrainingSAEConfig} and subclasses); an
   * inference {@code cfg.json} written by {@code save_inference_model} has none of them.
   */
  private static final Set<String> TRAINING_ONLY_FIELDS =
      Set.of(
          "decoder_init_norm",
          "use_sparse_activations",
          "aux_loss_coefficient",
          "topk_threshold_lr",
          "l1_coefficient",
          "lp_norm",
          "l1_warm_up_steps",
          "l0_coefficient",
          "l0_warm_up_steps",
          "jumprelu_init_threshold",
          "jumprelu_bandwidth",
          "jumprelu_sparsity_loss_mode",
          "jumprelu_tanh_scale",
          "pre_act_loss_coefficient");

  /**
   * Fields every sae-lens SAE config may carry: the base and per-architecture inference fields plus
   * {@link #TRAINING_ONLY_FIELDS}.
   */
  private static final Set<String> KNOWN_FIELDS =
      Stream.concat(
              Stream.of(
                  "architecture",
                  "d_in",
                  "d_sae",
                  "dtype",
                  "device",
                  "apply_b_dec_to_input",
                  "normalize_activations",
                  "reshape_activations",
                  "metadata",
                  "k",
                  "rescale_acts_by_decoder_norm",
                  "transpose_required",
                  "hook_head_index"),
              TRAINING_ONLY_FIELDS.stream())
          .collect(Collectors.toUnmodifiableSet());

  private final ObjectNode json;
  private final Architecture architecture;
  private final int dIn;
  private final int dSae;
  private final DType dtype;
  private final boolean applyBDecToInput;
  private final ActivationNormalization normalizeActivations;
  private final @Nullable Double k;
  private final boolean rescaleActsByDecoderNorm;
  private final List<String> unknownFields;
  private final List<String> trainingFields;
  private final FoldProvenance foldProvenance;
  private final Map<String, long[]> expectedShapes;

  private SaeConfig(ObjectNode json) {
    this.json = json.deepCopy();
    this.architecture = Architecture.fromCfgName(requiredText(json, "architecture"));
    this.dIn = positiveInt(json, "d_in");
    this.dSae = positiveInt(json, "d_sae");
    JsonNode dt = json.get("dtype");
    this.dtype = dt == null || dt.isNull() ? DType.F32 : DType.fromTorchName(textOf(dt, "dtype"));
    JsonNode apply = json.get("apply_b_dec_to_input");
    this.applyBDecToInput =
        apply == null || apply.isNull() || booleanOf(apply, "apply_b_dec_to_input");
    JsonNode norm = json.get("normalize_activations");
    this.normalizeActivations =
        norm == null || norm.isNull()
            ? ActivationNormalization.NONE
            : ActivationNormalization.fromCfgName(textOf(norm, "normalize_activations"));
    JsonNode kNode = json.get("k");
    if (kNode == null || kNode.isNull()) {
      if (architecture == Architecture.TOPK || architecture == Architecture.BATCHTOPK) {
        throw new IllegalArgumentException(
            "k is required for architecture " + architecture.cfgName());
      }
      this.k = null;
    } else {
      if (!kNode.isNumber()) {
        throw new IllegalArgumentException("k must be a number, was " + kNode);
      }
      double kv = kNode.asDouble();
      if (!(kv > 0) || kv > dSae) {
        throw new IllegalArgumentException("k must be in (0, d_sae=" + dSae + "], was " + kv);
      }
      if (architecture == Architecture.TOPK && kv != Math.rint(kv)) {
        throw new IllegalArgumentException("k must be an integer for topk, was " + kv);
      }
      this.k = kv;
    }
    JsonNode rescale = json.get("rescale_acts_by_decoder_norm");
    this.rescaleActsByDecoderNorm =
        rescale != null && !rescale.isNull() && booleanOf(rescale, "rescale_acts_by_decoder_norm");
    List<String> unknown = new ArrayList<>();
    List<String> training = new ArrayList<>();
    for (Iterator<String> it = json.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!KNOWN_FIELDS.contains(f)) {
        unknown.add(f);
      }
      if (TRAINING_ONLY_FIELDS.contains(f)) {
        training.add(f);
      }
    }
    this.unknownFields = List.copyOf(unknown);
    this.trainingFields = List.copyOf(training);
    JsonNode md = json.get("metadata");
    if (md != null && !md.isNull() && !md.isObject()) {
      throw new IllegalArgumentException("metadata must be an object, was " + md);
    }
    JsonNode fold = md == null ? null : md.get(FoldProvenance.METADATA_FIELD);
    this.foldProvenance =
        fold == null || fold.isNull() ? FoldProvenance.NONE : FoldProvenance.fromJson(fold);
    this.expectedShapes = shapesFor(architecture, dIn, dSae);
  }

  private static Map<String, long[]> shapesFor(Architecture architecture, long dIn, long dSae) {
    Map<String, long[]> m = new LinkedHashMap<>();
    m.put("W_enc", new long[] {dIn, dSae});
    if (architecture != Architecture.GATED) {
      m.put("b_enc", new long[] {dSae});
    }
    m.put("W_dec", new long[] {dSae, dIn});
    m.put("b_dec", new long[] {dIn});
    switch (architecture) {
      case JUMPRELU -> m.put("threshold", new long[] {dSae});
      case GATED -> {
        m.put("b_gate", new long[] {dSae});
        m.put("b_mag", new long[] {dSae});
        m.put("r_mag", new long[] {dSae});
      }
      case BATCHTOPK -> m.put("topk_threshold", new long[0]);
      case STANDARD, TOPK -> {}
    }
    return Collections.unmodifiableMap(m);
  }

  /**
   * A TopK cfg as sae-lens 6.14+ saves a TopK SAE by default: {@code rescale_acts_by_decoder_norm}
   * on, {@code b_dec} subtracted from the input, no input normalization, float32.
   *
   * @throws IllegalArgumentException when a size is not positive or {@code k > d_sae}
   */
  public static SaeConfig ofTopK(int dIn, int dSae, int k) {
    ObjectNode cfg = MAPPER.createObjectNode();
    cfg.put("architecture", "topk");
    cfg.put("d_in", dIn);
    cfg.put("d_sae", dSae);
    cfg.put("apply_b_dec_to_input", true);
    cfg.put("normalize_activations", "none");
    cfg.put("k", k);
    cfg.put("rescale_acts_by_decoder_norm", true);
    return new SaeConfig(cfg);
  }

  /**
   * Parses and validates a {@code cfg.json} object.
   *
   * @throws IllegalArgumentException naming the offending field
   */
  public static SaeConfig fromJson(ObjectNode json) {
    return new SaeConfig(json);
  }

  /**
   * Parses and validates {@code cfg.json} text.
   *
   * @throws IllegalArgumentException when the text is not a JSON object or a field is invalid
   */
  public static SaeConfig parse(String text) {
    JsonNode node;
    try {
      node = MAPPER.readTree(text);
    } catch (JacksonException e) {
      throw new IllegalArgumentException(
          "malformed JSON: "
              + e.getOriginalMessage()
              + (e.getLocation() == null
                  ? ""
                  : " at line "
                      + e.getLocation().getLineNr()
                      + ", column "
                      + e.getLocation().getColumnNr()),
          e);
    }
    if (node == null || !node.isObject()) {
      throw new IllegalArgumentException("expected a JSON object, found " + describe(node));
    }
    return new SaeConfig((ObjectNode) node);
  }

  /** The verbatim JSON object (a defensive copy). */
  public ObjectNode toJson() {
    return json.deepCopy();
  }

  /**
   * The {@code cfg.json} text as sae-lens writes it (Python {@code json.dump} conventions, field
   * order preserved, no trailing newline): a cfg.json written by sae-lens round-trips byte for
   * byte.
   */
  public String toCfgJson() {
    return PythonJson.write(json);
  }

  /**
   * Returns a copy with {@code field} set (added at the end when absent, replaced in place
   * otherwise).
   */
  public SaeConfig with(String field, JsonNode value) {
    ObjectNode copy = json.deepCopy();
    copy.set(field, value);
    return new SaeConfig(copy);
  }

  /** Returns a copy without {@code field}. */
  public SaeConfig without(String field) {
    ObjectNode copy = json.deepCopy();
    copy.remove(field);
    return new SaeConfig(copy);
  }

  /** The {@code architecture} field. */
  public Architecture architecture() {
    return architecture;
  }

  /** {@code d_in}, the width of the activations the SAE reads. */
  public int dIn() {
    return dIn;
  }

  /** {@code d_sae}, the number of latents. */
  public int dSae() {
    return dSae;
  }

  /** The dtype the SAE computes in; sae-lens casts every tensor to it on load. */
  public DType dtype() {
    return dtype;
  }

  /** Whether {@code b_dec} is subtracted from the input (default true). */
  public boolean applyBDecToInput() {
    return applyBDecToInput;
  }

  /** The run-time input normalisation (default none). */
  public ActivationNormalization normalizeActivations() {
    return normalizeActivations;
  }

  /** {@code k} for topk (an integer) and batchtopk (may be fractional); null otherwise. */
  public @Nullable Double k() {
    return k;
  }

  /** {@code k} as an integer; only for topk. */
  public int topK() {
    if (architecture != Architecture.TOPK || k == null) {
      throw new IllegalStateException(
          "topK() is defined for topk SAEs, this is " + architecture.cfgName());
    }
    return (int) Math.rint(k);
  }

  /** Whether pre-activations are multiplied by the decoder row norms (topk/batchtopk). */
  public boolean rescaleActsByDecoderNorm() {
    return rescaleActsByDecoderNorm;
  }

  /** {@code metadata.model_name}, when present. */
  public @Nullable String modelName() {
    return metadataText("model_name");
  }

  /** {@code metadata.hook_name}, when present. */
  public @Nullable String hookName() {
    return metadataText("hook_name");
  }

  /** Top-level fields this version does not interpret, in file order; kept on write. */
  public List<String> unknownFields() {
    return unknownFields;
  }

  /** Fields only sae-lens training configs have ({@code decoder_init_norm}, ...), in file order. */
  public List<String> trainingFields() {
    return trainingFields;
  }

  /**
   * Whether this is a sae-lens training config ({@code save_model} of a training SAE): a
   * training-only architecture or any training-only field.
   */
  public boolean isTrainingConfig() {
    return architecture.trainingOnly() || !trainingFields.isEmpty();
  }

  /** What sae-stream folded into the weights, from {@code metadata.sae_stream_fold}. */
  public FoldProvenance foldProvenance() {
    return foldProvenance;
  }

  /**
   * Returns a copy recording {@code provenance} under {@code metadata.sae_stream_fold} ({@link
   * FoldProvenance#NONE} removes the record); other metadata is kept in order.
   */
  public SaeConfig withFoldProvenance(FoldProvenance provenance) {
    ObjectNode copy = json.deepCopy();
    JsonNode md = copy.get("metadata");
    ObjectNode metadata =
        md != null && md.isObject() ? (ObjectNode) md : JsonNodeFactory.instance.objectNode();
    if (provenance.isNone()) {
      metadata.remove(FoldProvenance.METADATA_FIELD);
    } else {
      metadata.set(FoldProvenance.METADATA_FIELD, provenance.toJson());
    }
    if (md == null || !md.isObject()) {
      if (metadata.isEmpty()) {
        return this;
      }
      copy.set("metadata", metadata);
    }
    return new SaeConfig(copy);
  }

  /**
   * The tensors sae-lens requires for this architecture, with the shapes {@code d_in} and {@code
   * d_sae} imply, in sae-lens state-dict order. {@code topk_threshold} (batchtopk) is a 0-d scalar.
   * Callers must not modify the arrays.
   */
  public Map<String, long[]> expectedTensorShapes() {
    return expectedShapes;
  }

  private @Nullable String metadataText(String field) {
    JsonNode md = json.get("metadata");
    if (md == null || !md.isObject()) {
      return null;
    }
    JsonNode v = md.get(field);
    return v == null || !v.isTextual() ? null : v.asText();
  }

  private static String requiredText(ObjectNode json, String field) {
    JsonNode n = json.get(field);
    if (n == null || n.isNull()) {
      throw new IllegalArgumentException(field + " is required");
    }
    return textOf(n, field);
  }

  private static String textOf(JsonNode n, String field) {
    if (!n.isTextual()) {
      throw new IllegalArgumentException(field + " must be a string, was " + n);
    }
    return n.asText();
  }

  private static boolean booleanOf(JsonNode n, String field) {
    if (!n.isBoolean()) {
      throw new IllegalArgumentException(field + " must be true or false, was " + n);
    }
    return n.asBoolean();
  }

  private static int positiveInt(ObjectNode json, String field) {
    JsonNode n = json.get(field);
    if (n == null || n.isNull()) {
      throw new IllegalArgumentException(field + " is required");
    }
    if (!n.canConvertToInt() || !n.isIntegralNumber()) {
      throw new IllegalArgumentException(field + " must be an integer, was " + n);
    }
    int v = n.asInt();
    if (v <= 0) {
      throw new IllegalArgumentException(field + " must be > 0, was " + v);
    }
    return v;
  }

  private static String describe(@Nullable JsonNode node) {
    return node == null ? "nothing" : node.getNodeType().name().toLowerCase(Locale.ROOT);
  }

  @Override
  public String toString() {
    return "SaeConfig" + json;
  }
}
