package io.saestream.streams.monitoring;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link BatchSummary} read from its wire form says, for tests outside the monitoring
 * package that read the aggregates topic (the summary itself is package-private: it is the app's
 * internal wire contract). Decodes with the app's own serde. Immutable.
 *
 * @param saeId the SAE the summary is about (the record's key)
 * @param sequenceId the batch's sequence
 * @param nTokens tokens in the batch
 * @param latents the latents that fired, ascending
 * @param firings firings summed over those latents (tokens × latents that fired on them)
 * @param tokens the batch's text, null when the summary carries none
 * @param candidates candidate top contexts carried
 */
public record DecodedSummary(
    String saeId,
    String sequenceId,
    int nTokens,
    List<Integer> latents,
    long firings,
    @Nullable List<String> tokens,
    int candidates) {

  /** Copies the lists. */
  public DecodedSummary {
    Objects.requireNonNull(saeId, "saeId");
    Objects.requireNonNull(sequenceId, "sequenceId");
    latents = List.copyOf(latents);
    tokens = tokens == null ? null : List.copyOf(tokens);
  }

  /**
   * Decodes {@code wire}, the value of an aggregates-topic record.
   *
   * @throws org.apache.kafka.common.errors.SerializationException when it is not a summary
   */
  public static DecodedSummary decode(byte[] wire) {
    BatchSummary s = BatchSummary.serde().deserializer().deserialize("aggregates", wire);
    List<Integer> latents = new ArrayList<>(s.size());
    long firings = 0;
    for (int i = 0; i < s.size(); i++) {
      latents.add(s.latents[i]);
      firings += s.firings[i];
    }
    return new DecodedSummary(
        s.saeId, s.sequenceId, s.nTokens, latents, firings, s.tokens, s.contexts.size());
  }
}
