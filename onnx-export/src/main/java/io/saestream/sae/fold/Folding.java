package io.saestream.sae.fold;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.saestream.sae.checkpoint.ActivationNormalization;
import io.saestream.sae.checkpoint.Architecture;
import io.saestream.sae.checkpoint.DType;
import io.saestream.sae.checkpoint.HalfPrecision;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;
import io.saestream.sae.checkpoint.Tensor;
import io.saestream.sae.fold.ScaledTensor.Op;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Output-preserving rewrites of sae-lens SAEs into the form sae-stream serves and publishes: the
 * sae-lens inference checkpoint, with the decoder norms (and, when given, the training activation
 * scale) folded into the weights.
 *
 * <p>Every method is pure and lazy: it returns a new {@link SaeCheckpoint} whose changed tensors
 * are views computed on read from the input's tensors (only the {@code d_sae} decoder norms are
 * computed eagerly, in one streaming pass over {@code W_dec}), so folding a 4 GB SAE needs a few MB
 * of heap. The result shares the input's tensors: it must not outlive the input, and closing it
 * does nothing. Each result records what was folded in {@code cfg.json} ({@link
 * SaeConfig#foldProvenance()}). Arithmetic matches torch on the stored dtype (see {@link
 * ScaledTensor}).
 *
 * <p>Stateless and thread-safe.
 */
public final class Folding {

  private Folding() {}

  /**
   * Folds the decoder row norms {@code n_j = ||W_dec[j, :]||} (clamped at 1e-8) into the encoder,
   * exactly as sae-lens 6.14+ does ({@code fold_W_dec_norm}, {@code _fold_norm_topk}): {@code
   * W_dec[j, :] /= n_j}, {@code W_enc[:, j] *= n_j}, and per architecture {@code b_enc *= n}
   * (standard, topk, batchtopk, jumprelu), {@code threshold *= n} (jumprelu), {@code b_gate *= n}
   * and {@code b_mag *= n} (gated; {@code r_mag} is unchanged because it scales {@code W_enc}
   * multiplicatively). The SAE's output is unchanged and its decoder rows have unit norm. (sae-lens
   * does not clamp for topk; a zero decoder row gives NaN there and stays zero here.)
   *
   * @throws IllegalArgumentException for topk/batchtopk without {@code
   *     rescale_acts_by_decoder_norm}: scaling the pre-activations per latent would change which
   *     latents win the top-k
   */
  public static SaeCheckpoint foldDecoderNorm(SaeCheckpoint checkpoint) {
    SaeConfig cfg = checkpoint.config();
    if (!canFoldDecoderNorm(cfg)) {
      throw new IllegalArgumentException(
          "cannot fold the decoder norms of a "
              + cfg.architecture().cfgName()
              + " SAE with rescale_acts_by_decoder_norm=false: it would scale each latent's"
              + " pre-activation by its own factor and change which latents win the top-k"
              + " (sae-lens refuses too)");
    }
    return applyDecoderNorms(checkpoint, DecoderNorms.of(checkpoint.tensor("W_dec")));
  }

  /**
   * Folds the {@code expected_average_only_in} activation scale {@code s} (training activations
   * were {@code s * x}) into the weights, so the SAE takes raw activations: sae-lens's {@code
   * fold_activation_norm_scaling_factor} ({@code W_enc *= s}, {@code W_dec /= s}, {@code b_dec /=
   * s}, {@code normalize_activations := "none"}) plus the fix sae-lens lacks for BatchTopK.
   *
   * <p>Why the thresholds are what they are: with {@code x' = x - b_dec / s} the new pre-activation
   * is {@code x' (s W_enc) + b_enc = (s x - b_dec) W_enc + b_enc}, exactly the training
   * pre-activation {@code h}, and the output is {@code x_hat / s}. So everything compared with
   * {@code h} itself keeps its threshold: a JumpReLU's {@code threshold} (fires iff {@code h >
   * threshold}, before and after), a gated SAE's gate, a topk's ranking. A BatchTopK SAE with
   * {@code rescale_acts_by_decoder_norm} compares {@code h * n} with {@code topk_threshold}, and
   * the fold divides the decoder norms {@code n} by {@code s}: to keep firing iff {@code h n >
   * theta} its threshold must become {@code theta / s}. sae-lens leaves it unchanged, so its saved
   * JumpReLU fires iff {@code h n > s theta} (L0 47.4 instead of 8 in the {@code batchtopk_scaled}
   * fixture); we divide it. Without rescale the BatchTopK threshold compares {@code h} and stays.
   *
   * @param scale the scale factor {@code s} (sae-lens's {@code ActivationScaler} value); used as
   *     float32 for float32 tensors, as torch does with a Python float, and as float64 for F64
   *     ({@code topk_threshold})
   * @throws IllegalArgumentException when {@code scale} is not finite and positive, or when {@code
   *     normalize_activations} is not {@code expected_average_only_in} (there is no scale to fold;
   *     sae-lens folds it at the end of training, so folding again would apply it twice)
   */
  public static SaeCheckpoint foldActivationScale(SaeCheckpoint checkpoint, double scale) {
    if (!(scale > 0) || !Double.isFinite(scale)) {
      throw new IllegalArgumentException("activation scale must be finite and > 0, was " + scale);
    }
    SaeConfig cfg = checkpoint.config();
    if (cfg.normalizeActivations() != ActivationNormalization.EXPECTED_AVERAGE_ONLY_IN) {
      throw new IllegalArgumentException(
          "normalize_activations is "
              + cfg.normalizeActivations().cfgName()
              + ", not expected_average_only_in: there is no activation scale to fold"
              + (cfg.foldProvenance().activationScale() != null
                  ? " (already folded: " + cfg.foldProvenance().activationScale() + ")"
                  : " (sae-lens folds it itself at the end of training)"));
    }
    Map<String, Tensor> tensors = new LinkedHashMap<>(checkpoint.tensors());
    tensors.put("W_enc", ScaledTensor.all(checkpoint.tensor("W_enc"), Op.MULTIPLY, scale));
    tensors.put("W_dec", ScaledTensor.all(checkpoint.tensor("W_dec"), Op.DIVIDE, scale));
    tensors.put("b_dec", ScaledTensor.all(checkpoint.tensor("b_dec"), Op.DIVIDE, scale));
    if (cfg.architecture() == Architecture.BATCHTOPK && cfg.rescaleActsByDecoderNorm()) {
      tensors.put(
          "topk_threshold",
          ScaledTensor.all(checkpoint.tensor("topk_threshold"), Op.DIVIDE, scale));
    }
    ObjectNode json = cfg.toJson();
    json.put("normalize_activations", ActivationNormalization.NONE.cfgName());
    SaeConfig folded =
        SaeConfig.fromJson(json)
            .withFoldProvenance(cfg.foldProvenance().withActivationScale(scale));
    return SaeCheckpoint.of(folded, tensors);
  }

  /**
   * Converts a BatchTopK training SAE to the JumpReLU inference SAE sae-lens's {@code
   * save_inference_model} writes: decoder norms folded when {@code rescale_acts_by_decoder_norm}
   * (else the weights are unchanged), {@code threshold = ones(d_sae) * topk_threshold} in {@code
   * b_enc}'s dtype, {@code topk_threshold} dropped, {@code architecture: "jumprelu"}, and the
   * training-only cfg fields ({@code k}, {@code rescale_acts_by_decoder_norm}, {@code
   * topk_threshold_lr}, ...) dropped.
   *
   * @throws IllegalArgumentException when the checkpoint is not batchtopk
   */
  public static SaeCheckpoint batchTopKToJumpRelu(SaeCheckpoint checkpoint) {
    SaeConfig cfg = checkpoint.config();
    if (cfg.architecture() != Architecture.BATCHTOPK) {
      throw new IllegalArgumentException(
          "only a batchtopk SAE converts to jumprelu, this is " + cfg.architecture().cfgName());
    }
    SaeCheckpoint folded =
        cfg.rescaleActsByDecoderNorm() ? foldDecoderNorm(checkpoint) : checkpoint;
    double[] theta = new double[1];
    folded.tensor("topk_threshold").readDoubles(0, theta, 0, 1);
    Tensor bEnc = folded.tensor("b_enc");
    Map<String, Tensor> tensors = new LinkedHashMap<>(folded.tensors());
    tensors.remove("topk_threshold");
    tensors.put(
        "threshold",
        new ConstantTensor(bEnc.dtype(), bEnc.shape(), asDtype(bEnc.dtype(), theta[0])));
    SaeConfig converted =
        inferenceConfig(folded.config(), Architecture.JUMPRELU)
            .withFoldProvenance(
                folded.config().foldProvenance().withConvertedFrom(Architecture.BATCHTOPK));
    return SaeCheckpoint.of(converted, tensors);
  }

  /**
   * What sae-stream serves and publishes: the sae-lens inference form of {@code checkpoint}, with
   * exactly the latents sae-lens's loaded model gives. BatchTopK becomes JumpReLU ({@link
   * #batchTopKToJumpRelu}, decoder norms folded as sae-lens's {@code save_inference_model} does); a
   * topk SAE with {@code rescale_acts_by_decoder_norm} gets its decoder norms folded, which leaves
   * its feature activations and reconstruction unchanged; training-only cfg fields are dropped.
   * Standard, jumprelu and gated SAEs keep their weights: folding would multiply their feature
   * activations by the decoder norms, and users compare our latents with sae-lens's (call {@link
   * #foldDecoderNorm} explicitly to fold them). A decoder that already has unit rows (within the
   * rounding of its dtype, e.g. saved folded by sae-lens) is left bit-identical and only recorded
   * as folded.
   *
   * @throws IllegalArgumentException when {@code normalize_activations} is {@code
   *     expected_average_only_in}: call {@link #foldActivationScale} with the training scale first
   */
  public static SaeCheckpoint toInference(SaeCheckpoint checkpoint) {
    SaeConfig cfg = checkpoint.config();
    if (cfg.normalizeActivations() == ActivationNormalization.EXPECTED_AVERAGE_ONLY_IN) {
      throw new IllegalArgumentException(
          "normalize_activations is expected_average_only_in: fold the training activation scale"
              + " first (Folding.foldActivationScale(checkpoint, s), s from sae-lens's"
              + " ActivationScaler)");
    }
    SaeCheckpoint result = checkpoint;
    if (cfg.architecture() == Architecture.BATCHTOPK) {
      result = batchTopKToJumpRelu(result);
    }
    SaeConfig current = result.config();
    if (foldKeepsLatents(current) && !current.foldProvenance().decoderNormFolded()) {
      Tensor wDec = result.tensor("W_dec");
      double[] norms = DecoderNorms.of(wDec);
      if (DecoderNorms.allUnit(norms, wDec.dtype())) {
        result =
            SaeCheckpoint.of(
                current.withFoldProvenance(current.foldProvenance().withDecoderNormFolded()),
                result.tensors());
      } else {
        result = applyDecoderNorms(result, norms);
      }
    }
    SaeConfig inference = inferenceConfig(result.config(), result.config().architecture());
    if (!inference.toJson().equals(result.config().toJson())) {
      result = SaeCheckpoint.of(inference, result.tensors());
    }
    return result;
  }

  // ---------------------------------------------------------------------------------------------

  /** Whether folding the decoder norms leaves the feature activations themselves unchanged. */
  private static boolean foldKeepsLatents(SaeConfig cfg) {
    return cfg.architecture() == Architecture.TOPK && cfg.rescaleActsByDecoderNorm();
  }

  private static boolean canFoldDecoderNorm(SaeConfig cfg) {
    Architecture a = cfg.architecture();
    return (a != Architecture.TOPK && a != Architecture.BATCHTOPK)
        || cfg.rescaleActsByDecoderNorm();
  }

  private static SaeCheckpoint applyDecoderNorms(SaeCheckpoint checkpoint, double[] norms) {
    SaeConfig cfg = checkpoint.config();
    Map<String, Tensor> tensors = new LinkedHashMap<>(checkpoint.tensors());
    tensors.put("W_dec", ScaledTensor.rows(checkpoint.tensor("W_dec"), Op.DIVIDE, norms));
    tensors.put("W_enc", ScaledTensor.columns(checkpoint.tensor("W_enc"), Op.MULTIPLY, norms));
    for (String name : scaledWithNorms(cfg.architecture())) {
      tensors.put(name, ScaledTensor.columns(checkpoint.tensor(name), Op.MULTIPLY, norms));
    }
    return SaeCheckpoint.of(
        cfg.withFoldProvenance(cfg.foldProvenance().withDecoderNormFolded()), tensors);
  }

  /** The per-latent vectors that scale with the pre-activation. */
  private static List<String> scaledWithNorms(Architecture architecture) {
    return switch (architecture) {
      case STANDARD, TOPK, BATCHTOPK -> List.of("b_enc");
      case JUMPRELU -> List.of("b_enc", "threshold");
      case GATED -> List.of("b_gate", "b_mag");
    };
  }

  /**
   * {@code cfg} as the inference config of {@code architecture}: training-only fields dropped,
   * {@code k} and {@code rescale_acts_by_decoder_norm} kept only for topk; field order kept.
   */
  private static SaeConfig inferenceConfig(SaeConfig cfg, Architecture architecture) {
    ObjectNode json = cfg.toJson();
    json.put("architecture", architecture.cfgName());
    json.remove(cfg.trainingFields());
    if (architecture != Architecture.TOPK) {
      json.remove(List.of("k", "rescale_acts_by_decoder_norm"));
    }
    return SaeConfig.fromJson(json);
  }

  /** {@code value} as torch stores {@code ones(dtype) * value}: rounded to {@code dtype}. */
  private static double asDtype(DType dtype, double value) {
    return dtype == DType.F64 ? value : HalfPrecision.roundTo(dtype, (float) value);
  }
}
