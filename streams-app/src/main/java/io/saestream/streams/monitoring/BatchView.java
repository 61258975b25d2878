package io.saestream.streams.monitoring;

import io.saestream.schema.v1.FeatureBatch;
import io.saestream.schema.v1.ReconstructionStats;
import io.saestream.schema.v1.TokenContext;
import io.saestream.streams.config.MonitoringSettings;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One analyzed batch at its event time, with a dense view of one latent at a time and the token
 * context around a position (redacted when configured). Immutable; cheap to create per record.
 */
final class BatchView {

  final FeatureBatch features;
  final ReconstructionStats stats;
  final @Nullable List<String> tokens;
  final long timestamp;
  private final MonitoringSettings settings;
  private final List<Integer> offsets;
  private final List<Integer> indices;
  private final List<Float> values;

  BatchView(AnalyzedBatch a, long timestamp, MonitoringSettings settings) {
    this.features = a.features();
    this.stats = a.stats();
    this.tokens = a.tokens();
    this.timestamp = timestamp;
    this.settings = settings;
    this.offsets = features.getRowOffsets();
    this.indices = features.getLatentIndices();
    this.values = features.getLatentValues();
  }

  String sequenceId() {
    return features.getSequenceId();
  }

  /** Activation of {@code latent} on token {@code t}, 0 when not among the row's slots. */
  float value(int t, int latent) {
    for (int i = offsets.get(t); i < offsets.get(t + 1); i++) {
      if (indices.get(i) == latent) {
        return values.get(i);
      }
    }
    return 0f;
  }

  /** The batch's text as contexts show it (redacted when configured), or null without text. */
  @Nullable List<String> contextText() {
    List<String> text = tokens;
    if (text == null || !settings.redactTokens()) {
      return text;
    }
    return Collections.nCopies(text.size(), MonitoringSettings.REDACTED);
  }

  /** Tokens either side of the firing token in a context. */
  int contextRadius() {
    return settings.contextTokens();
  }

  /** The context of token {@code t} where a latent reached {@code value}. */
  ContextEntry context(int t, double value) {
    List<String> window = List.of();
    int focus = -1;
    List<String> text = tokens;
    if (text != null) {
      int from = Math.max(0, t - settings.contextTokens());
      int to = Math.min(text.size(), t + settings.contextTokens() + 1);
      List<String> slice = new ArrayList<>(text.subList(from, to));
      if (settings.redactTokens()) {
        slice.replaceAll(s -> MonitoringSettings.REDACTED);
      }
      window = slice;
      focus = t - from;
    }
    return new ContextEntry(
        value,
        sequenceId(),
        (int) Math.min(Integer.MAX_VALUE, features.getStartPosition() + (long) t),
        window,
        focus,
        timestamp);
  }

  /** The alert context of token {@code t}, or null when the batch has no text. */
  @Nullable TokenContext tokenContext(int t) {
    if (tokens == null) {
      return null;
    }
    return FeatureAlerts.toTokenContext(context(t, 0));
  }
}
