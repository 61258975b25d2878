package io.saestream.streams.monitoring;

import java.util.List;
import java.util.Objects;

/**
 * One activating context of a latent: where it fired, how strongly, and the text around it.
 *
 * @param value the activation
 * @param sequenceId the sequence
 * @param position zero-based token position in the sequence
 * @param tokens text around the token (empty when the producer sent no text)
 * @param focusIndex index of the firing token in {@code tokens}, or −1 when there is no text
 * @param timestamp event time of the batch, ms since the epoch
 */
public record ContextEntry(
    double value,
    String sequenceId,
    int position,
    List<String> tokens,
    int focusIndex,
    long timestamp) {

  /** Copies the tokens. */
  public ContextEntry {
    Objects.requireNonNull(sequenceId, "sequenceId");
    tokens = List.copyOf(tokens);
  }
}
