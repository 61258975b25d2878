package io.saestream.synthetic.produce;

import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.Dtype;
import io.saestream.synthetic.encoding.ActivationCodec;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What every {@link ActivationBatch} of one producer shares — model, hook, dtype and attributes
 * (e.g. {@code tenant}) — and the one place that builds records from rows of floats.
 *
 * @param modelId the {@code model_id} of every record
 * @param hookName the sae-lens hook name of every record, e.g. {@code blocks.8.hook_resid_pre}
 * @param dtype how the floats are encoded in {@code data}
 * @param attributes the {@code attributes} map of every record
 */
public record ActivationBatchTemplate(
    String modelId, String hookName, Dtype dtype, Map<String, String> attributes) {

  /** Validates the ids and copies the attributes. */
  public ActivationBatchTemplate {
    Objects.requireNonNull(modelId, "modelId");
    Objects.requireNonNull(hookName, "hookName");
    Objects.requireNonNull(dtype, "dtype");
    if (modelId.isBlank()) {
      throw new IllegalArgumentException("model id must not be blank");
    }
    if (hookName.isBlank()) {
      throw new IllegalArgumentException("hook name must not be blank");
    }
    attributes = Map.copyOf(attributes);
  }

  /**
   * One record of {@code nTokens} consecutive tokens whose activations are the first {@code nTokens
   * × dIn} floats of {@code data}.
   *
   * @param tokens token texts, {@code nTokens} of them, or null
   * @param tokenIds token ids, at least {@code nTokens} of them, or null
   */
  public ActivationBatch build(
      String sequenceId,
      int startPosition,
      float[] data,
      int nTokens,
      int dIn,
      @Nullable List<String> tokens,
      int @Nullable [] tokenIds,
      Instant producedAt) {
    if (nTokens <= 0 || dIn <= 0 || (long) nTokens * dIn > data.length) {
      throw new IllegalArgumentException(
          "data must hold n_tokens × d_in = "
              + nTokens
              + " × "
              + dIn
              + " floats (both > 0), had "
              + data.length);
    }
    if (startPosition < 0) {
      throw new IllegalArgumentException("start position must be >= 0, was " + startPosition);
    }
    if (tokens != null && tokens.size() != nTokens) {
      throw new IllegalArgumentException(
          "tokens must have n_tokens = " + nTokens + " entries, had " + tokens.size());
    }
    List<Integer> ids = null;
    if (tokenIds != null) {
      if (tokenIds.length < nTokens) {
        throw new IllegalArgumentException(
            "token ids must have n_tokens = " + nTokens + " entries, had " + tokenIds.length);
      }
      ids = new ArrayList<>(nTokens);
      for (int t = 0; t < nTokens; t++) {
        ids.add(tokenIds[t]);
      }
    }
    ActivationBatch.Builder builder =
        ActivationBatch.newBuilder()
            .setModelId(modelId)
            .setHookName(hookName)
            .setSequenceId(sequenceId)
            .setStartPosition(startPosition)
            .setNTokens(nTokens)
            .setDIn(dIn)
            .setDtype(dtype)
            .setData(ByteBuffer.wrap(ActivationCodec.encode(data, 0, nTokens * dIn, dtype)))
            .setProducedAt(producedAt)
            .setAttributes(attributes);
    // Unset optional fields take their schema default, null.
    if (ids != null) {
      builder.setTokenIds(ids);
    }
    if (tokens != null) {
      builder.setTokens(List.copyOf(tokens));
    }
    return builder.build();
  }
}
