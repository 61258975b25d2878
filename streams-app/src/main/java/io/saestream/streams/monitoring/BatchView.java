package io.saestream.streams.monitoring;

import io.saestream.schema.v1.FeatureBatch;
import io.saestream.schema.v1.ReconstructionStats;
import io.saestream.schema.v1.TokenContext;
import io.saestream.streams.config.MonitoringSettings;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.avro.generic.PrimitivesArrays;
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

  /** Row offsets, latent indices and values of the sparse latents, unboxed once per batch. */
  final int[] offsets;

  final int[] indices;
  final float[] values;

  BatchView(AnalyzedBatch a, long timestamp, MonitoringSettings settings) {
    this.features = a.features();
    this.stats = a.stats();
    this.tokens = a.tokens();
    this.timestamp = timestamp;
    this.settings = settings;
    this.offsets = ints(features.getRowOffsets());
    this.indices = ints(features.getLatentIndices());
    this.values = floats(features.getLatentValues());
  }

  String sequenceId() {
    return features.getSequenceId();
  }

  /** Activation of {@code latent} on token {@code t}, 0 when not among the row's slots. */
  float value(int t, int latent) {
    for (int i = offsets[t]; i < offsets[t + 1]; i++) {
      if (indices[i] == latent) {
        return values[i];
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

  /** The ints of an Avro array, without boxing when it is Avro's primitive array. */
  static int[] ints(List<Integer> list) {
    int[] out = new int[list.size()];
    if (list instanceof PrimitivesArrays.IntArray a) {
      for (int i = 0; i < out.length; i++) {
        out[i] = a.getInt(i);
      }
    } else {
      for (int i = 0; i < out.length; i++) {
        out[i] = list.get(i);
      }
    }
    return out;
  }

  /** The floats of an Avro array, without boxing when it is Avro's primitive array. */
  static float[] floats(List<Float> list) {
    float[] out = new float[list.size()];
    if (list instanceof PrimitivesArrays.FloatArray a) {
      for (int i = 0; i < out.length; i++) {
        out[i] = a.getFloat(i);
      }
    } else {
      for (int i = 0; i < out.length; i++) {
        out[i] = list.get(i);
      }
    }
    return out;
  }
}
