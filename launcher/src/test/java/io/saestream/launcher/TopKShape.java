package io.saestream.launcher;

import io.saestream.sae.checkpoint.FloatTensor;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;
import io.saestream.sae.checkpoint.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The size of a sae-lens TopK SAE that a launcher test builds in code, and the checkpoints of that
 * size: {@code b_dec} subtracted from the input, no input normalization, and activations rescaled
 * by the decoder row norms, so that decoder rows of other than unit norm change the result. The
 * values are checked by {@link SaeConfig}'s own rules on construction. Immutable and thread-safe;
 * the checkpoints it builds live in memory and own nothing that needs closing.
 *
 * @param dIn width of an activation vector
 * @param dSae number of latents
 * @param k latents kept per token
 */
public record TopKShape(int dIn, int dSae, int k) {

  /** Checks the size as sae-lens would ({@code d_in > 0}, {@code 0 < k <= d_sae}, …). */
  public TopKShape {
    SaeConfig.ofTopK(dIn, dSae, k);
  }

  /** The sae-lens {@code cfg.json} of an SAE of this size. */
  public SaeConfig config() {
    return SaeConfig.ofTopK(dIn, dSae, k);
  }

  /**
   * A checkpoint of these weights: {@code W_enc [d_in, d_sae]}, {@code b_enc [d_sae]}, {@code W_dec
   * [d_sae, d_in]}, {@code b_dec [d_in]}.
   *
   * @throws IllegalArgumentException when a tensor has another shape
   */
  public SaeCheckpoint checkpoint(Tensor wEnc, Tensor bEnc, Tensor wDec, Tensor bDec) {
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put("W_enc", wEnc);
    tensors.put("b_enc", bEnc);
    tensors.put("W_dec", wDec);
    tensors.put("b_dec", bDec);
    return SaeCheckpoint.of(config(), tensors);
  }

  /**
   * A checkpoint whose encoder is its decoder transposed ({@code W_enc = W_decᵀ}), from the
   * row-major decoder {@code dec [d_sae, d_in]}; the arrays are used, not copied.
   *
   * @throws IllegalArgumentException when an array has another length
   */
  public SaeCheckpoint tied(float[] dec, float[] bEnc, float[] bDec) {
    FloatTensor wDec = FloatTensor.of(dec, dSae, dIn);
    float[] enc = new float[dIn * dSae];
    for (int j = 0; j < dSae; j++) {
      for (int i = 0; i < dIn; i++) {
        enc[i * dSae + j] = dec[j * dIn + i];
      }
    }
    return checkpoint(
        FloatTensor.of(enc, dIn, dSae),
        FloatTensor.of(bEnc, dSae),
        wDec,
        FloatTensor.of(bDec, dIn));
  }
}
