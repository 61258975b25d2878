package io.saestream.streams.monitoring;

import io.saestream.schema.v1.FeatureBatch;
import io.saestream.schema.v1.ReconstructionStats;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What the analyze node hands to the monitor node for one SAE and one ActivationBatch.
 *
 * @param features the sparse latents
 * @param stats the reconstruction metrics
 * @param tokens the batch's token text (n_tokens entries), or null when the producer sent none
 */
public record AnalyzedBatch(
    FeatureBatch features, ReconstructionStats stats, @Nullable List<String> tokens) {

  /** Checks that the parts belong together. */
  public AnalyzedBatch {
    Objects.requireNonNull(features, "features");
    Objects.requireNonNull(stats, "stats");
    if (tokens != null && tokens.size() != features.getNTokens()) {
      // A producer bug must not break alerting: drop the text, keep the numbers.
      tokens = null;
    }
  }
}
