package io.saestream.sae.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jspecify.annotations.Nullable;

/**
 * What sae-stream folded into a checkpoint's weights, recorded in {@code cfg.json} under {@code
 * metadata.sae_stream_fold} (sae-lens keeps unknown {@code metadata} keys when it loads and saves
 * an SAE, while it drops unknown top-level keys). For example {@code {"decoder_norm_folded": true,
 * "activation_scale": 0.0215568, "converted_from": "batchtopk"}}.
 *
 * <p>This is provenance, not detection: an SAE folded by sae-lens itself ({@code
 * save_inference_model}) carries no record and reads as {@link #NONE}. Immutable.
 *
 * @param decoderNormFolded the decoder row norms were folded into the encoder ({@code W_dec} rows
 *     have unit norm)
 * @param activationScale the {@code expected_average_only_in} scale {@code s} folded into the
 *     weights (they now take raw activations), or null
 * @param convertedFrom the architecture the checkpoint was converted from (BatchTopK saved as
 *     JumpReLU), or null
 */
public record FoldProvenance(
    boolean decoderNormFolded,
    @Nullable Double activationScale,
    @Nullable Architecture convertedFrom) {

  /** The key under {@code metadata} in {@code cfg.json}. */
  public static final String METADATA_FIELD = "sae_stream_fold";

  /** Nothing recorded. */
  public static final FoldProvenance NONE = new FoldProvenance(false, null, null);

  /** Validates the scale. */
  public FoldProvenance {
    if (activationScale != null && !(activationScale > 0 && Double.isFinite(activationScale))) {
      throw new IllegalArgumentException(
          "activation_scale must be finite and > 0, was " + activationScale);
    }
  }

  /** Whether nothing is recorded. */
  public boolean isNone() {
    return equals(NONE);
  }

  /** A copy recording that the decoder norms were folded. */
  public FoldProvenance withDecoderNormFolded() {
    return new FoldProvenance(true, activationScale, convertedFrom);
  }

  /** A copy recording that the activation scale {@code s} was folded. */
  public FoldProvenance withActivationScale(double s) {
    return new FoldProvenance(decoderNormFolded, s, convertedFrom);
  }

  /** A copy recording a conversion from {@code architecture}. */
  public FoldProvenance withConvertedFrom(Architecture architecture) {
    return new FoldProvenance(decoderNormFolded, activationScale, architecture);
  }

  /** The JSON object stored under {@code metadata.sae_stream_fold}. */
  public ObjectNode toJson() {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("decoder_norm_folded", decoderNormFolded);
    if (activationScale != null) {
      o.put("activation_scale", activationScale.doubleValue());
    }
    if (convertedFrom != null) {
      o.put("converted_from", convertedFrom.cfgName());
    }
    return o;
  }

  /** {@link #toJson()} as compact text, e.g. for an ONNX model's metadata. */
  public String toJsonText() {
    return PythonJson.write(toJson());
  }

  /**
   * Parses the value of {@code metadata.sae_stream_fold}.
   *
   * @throws IllegalArgumentException naming the malformed field
   */
  static FoldProvenance fromJson(JsonNode node) {
    String where = "metadata." + METADATA_FIELD;
    if (!node.isObject()) {
      throw new IllegalArgumentException(where + " must be an object, was " + node);
    }
    JsonNode folded = node.get("decoder_norm_folded");
    if (folded != null && !folded.isBoolean()) {
      throw new IllegalArgumentException(
          where + ".decoder_norm_folded must be true or false, was " + folded);
    }
    JsonNode scale = node.get("activation_scale");
    Double s = null;
    if (scale != null && !scale.isNull()) {
      if (!scale.isNumber()) {
        throw new IllegalArgumentException(
            where + ".activation_scale must be a number, was " + scale);
      }
      s = scale.asDouble();
    }
    JsonNode from = node.get("converted_from");
    Architecture a = null;
    if (from != null && !from.isNull()) {
      if (!from.isTextual()) {
        throw new IllegalArgumentException(where + ".converted_from must be a string, was " + from);
      }
      a = Architecture.fromCfgName(from.asText());
    }
    try {
      return new FoldProvenance(folded != null && folded.asBoolean(), s, a);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + "." + e.getMessage(), e);
    }
  }
}
