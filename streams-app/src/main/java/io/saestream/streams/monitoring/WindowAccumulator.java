package io.saestream.streams.monitoring;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.jspecify.annotations.Nullable;

/**
 * The latent statistics of one SAE in one window, held on the heap as dense arrays while the window
 * takes summaries, and persisted cheaply: each summary is one statistics delta (a put of its
 * encoded latent arrays, sequence-numbered) in {@link MonitoringTopology#STATS_DELTAS_STORE}, and
 * now and then the whole window is written as {@link LatentShard} snapshots to {@link
 * MonitoringTopology#LATENT_STATS_STORE} and its deltas deleted. The window's statistics are
 * therefore always its shards plus the deltas after each shard's through-sequence: what a restarted
 * task {@link #load}s and what a query reads ({@link WindowCells}), with one store write per
 * summary instead of one per latent.
 *
 * <p>Owned by the per-SAE monitor of one task; not thread-safe.
 */
final class WindowAccumulator {

  private int dSae;
  private long[] firings;
  private double[] sums;
  private float[] maxima;

  /** Per latent its histogram counts, allocated when it first fires (most latents rarely do). */
  private int[][] histograms;

  /** Sequence number the next delta gets. */
  long nextSequence;

  /** Deltas written since the last snapshot. */
  int pending;

  WindowAccumulator(int dSae) {
    this.dSae = 0;
    this.firings = new long[0];
    this.sums = new double[0];
    this.maxima = new float[0];
    this.histograms = new int[0][];
    ensure(dSae);
  }

  /**
   * The window {@code [from, to]} key range of {@code shards} and {@code deltas} folded into a new
   * accumulator (a task that restarted, or a window a late summary re-opened).
   */
  static WindowAccumulator load(
      ReadOnlyKeyValueStore<String, LatentShard> shards,
      ReadOnlyKeyValueStore<String, BatchSummary> deltas,
      String from,
      String to) {
    WindowAccumulator acc = new WindowAccumulator(0);
    List<Long> through = new ArrayList<>();
    try (KeyValueIterator<String, LatentShard> it = shards.range(from, to)) {
      while (it.hasNext()) {
        LatentShard shard = it.next().value;
        through.add(shard.throughSequence());
        shard.forEach(acc::add);
      }
    }
    long last = through.stream().mapToLong(Long::longValue).max().orElse(-1);
    try (KeyValueIterator<String, BatchSummary> it = deltas.range(from, to)) {
      while (it.hasNext()) {
        KeyValue<String, BatchSummary> kv = it.next();
        long sequence = MonitorKeys.sequenceOf(kv.key);
        // A snapshot writes every shard with the same through-sequence and deletes the deltas up
        // to it in the same transaction; a delta at or below it is already in the shards.
        if (sequence > last) {
          acc.fold(kv.value);
          acc.pending++;
        }
        last = Math.max(last, sequence);
      }
    }
    acc.nextSequence = last + 1;
    return acc;
  }

  /** Adds a summary's latents; returns how many of them had not fired in the window before. */
  int fold(BatchSummary s) {
    int n = s.size();
    if (n > 0) {
      ensure(Math.max(s.dSae, s.latents[n - 1] + 1));
    }
    int fresh = 0;
    for (int i = 0; i < n; i++) {
      int j = s.latents[i];
      if (firings[j] == 0) {
        fresh++;
      }
      firings[j] += s.firings[i];
      sums[j] += s.sums[i];
      maxima[j] = Math.max(maxima[j], s.maxima[i]);
      int[] h = histogram(j);
      for (int k = s.histOffsets[i]; k < s.histOffsets[i + 1]; k++) {
        h[s.histBins[k]] = Math.addExact(h[s.histBins[k]], s.histCounts[k]);
      }
    }
    return fresh;
  }

  /** Adds a cell (of a snapshot) to {@code latent}. */
  void add(int latent, LatentCell c) {
    ensure(latent + 1);
    firings[latent] += c.firings();
    sums[latent] += c.sum();
    maxima[latent] = (float) Math.max(maxima[latent], c.max());
    int[] h = histogram(latent);
    for (int b = 0; b < ActivationHistogram.BINS; b++) {
      h[b] = Math.toIntExact(h[b] + c.histogram().count(b));
    }
  }

  /** The cell of {@code latent}, or null when it did not fire. */
  @Nullable LatentCell cell(int latent) {
    if (latent >= dSae || firings[latent] == 0) {
      return null;
    }
    return new LatentCell(
        firings[latent], sums[latent], maxima[latent], ActivationHistogram.of(counts(latent)));
  }

  /** Firings of {@code latent} (0 when it did not fire). */
  long firings(int latent) {
    return latent < dSae ? firings[latent] : 0;
  }

  /** Sum of the activations of {@code latent}. */
  double sum(int latent) {
    return sums[latent];
  }

  /** Largest activation of {@code latent}. */
  float max(int latent) {
    return maxima[latent];
  }

  /** Histogram counts of {@code latent}, one per bin (a copy). */
  long[] counts(int latent) {
    long[] out = new long[ActivationHistogram.BINS];
    int[] h = histograms[latent];
    if (h != null) {
      for (int b = 0; b < out.length; b++) {
        out[b] = h[b];
      }
    }
    return out;
  }

  /** The SAE width covered. */
  int width() {
    return dSae;
  }

  private int[] histogram(int latent) {
    int[] h = histograms[latent];
    if (h == null) {
      h = new int[ActivationHistogram.BINS];
      histograms[latent] = h;
    }
    return h;
  }

  /** Latents whose firings reach {@code minDensity} of {@code tokens}. */
  int dense(long tokens, double minDensity) {
    if (tokens == 0) {
      return 0;
    }
    int n = 0;
    for (int j = 0; j < dSae; j++) {
      if (firings[j] != 0 && (double) firings[j] / tokens >= minDensity) {
        n++;
      }
    }
    return n;
  }

  /** The snapshot of every shard with a latent that fired, through the last delta written. */
  List<KeyValue<Integer, LatentShard>> shards() {
    List<KeyValue<Integer, LatentShard>> out = new ArrayList<>();
    int shards = (dSae + LatentShard.SIZE - 1) / LatentShard.SIZE;
    for (int k = 0; k < shards; k++) {
      LatentShard s = LatentShard.encode(k, nextSequence - 1, this);
      if (s != null) {
        out.add(KeyValue.pair(k, s));
      }
    }
    return out;
  }

  private void ensure(int width) {
    if (width <= dSae) {
      return;
    }
    // A hot swap may widen the SAE; latents beyond d_sae are refused upstream.
    int old = dSae;
    dSae = width;
    firings = Arrays.copyOf(firings, width);
    sums = Arrays.copyOf(sums, width);
    maxima = Arrays.copyOf(maxima, width);
    histograms = Arrays.copyOf(histograms, width);
    Arrays.fill(maxima, old, width, 0f);
  }
}
