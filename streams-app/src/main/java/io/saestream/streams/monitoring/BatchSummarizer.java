package io.saestream.streams.monitoring;

import io.saestream.schema.v1.FeatureBatch;
import io.saestream.schema.v1.ReconstructionStats;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Reduces analyzed batches to {@link BatchSummary}s for the per-SAE monitor: per latent that fired,
 * its firing count, sum, maximum, histogram increments and, when worth sending, the context of its
 * strongest token. A context is worth sending when it beats the weakest of the {@code limit}
 * contexts this summarizer already sent for the latent (a weaker one can never enter the SAE's top
 * list, which holds values at least as strong) or when a rate rule watches the latent. Those floors
 * are a cache: losing them (a new task instance) only means sending a few more candidates.
 *
 * <p>Costs in proportion to the batch's non-zeros, not to d_sae: scratch arrays are reused. One
 * instance per task, used by its stream thread only.
 */
final class BatchSummarizer {

  private final int limit;
  private final Map<String, SentFloors> sentFloors = new HashMap<>();
  private final SummaryScratch scratch = new SummaryScratch();

  /** A summarizer that sends candidates while they can enter a top-{@code limit} list. */
  BatchSummarizer(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be >= 1, was " + limit);
    }
    this.limit = limit;
  }

  /** Forgets the floors (the task starts over). */
  void reset() {
    sentFloors.clear();
  }

  /**
   * The summary of batch {@code b}; {@code rateLatents} are the latents rate rules of its SAE watch
   * (their candidate contexts are always sent).
   */
  BatchSummary summarize(BatchView b, Set<Integer> rateLatents) {
    FeatureBatch f = b.features;
    ReconstructionStats s = b.stats;
    SummaryScratch sc = scratch;
    sc.reset(f.getDSae());
    int n = f.getNTokens();
    int[] offsets = b.offsets;
    int[] indices = b.indices;
    float[] values = b.values;
    for (int t = 0; t < n; t++) {
      for (int i = offsets[t]; i < offsets[t + 1]; i++) {
        float v = values[i];
        if (v > 0) {
          sc.add(indices[i], v, t);
        }
      }
    }
    double relSum = 0;
    int relCount = 0;
    for (float e : BatchView.floats(s.getRelativeError())) {
      if (Float.isFinite(e)) {
        relSum += e;
        relCount++;
      }
    }
    long l0 = 0;
    for (int x : BatchView.ints(s.getL0())) {
      l0 += x;
    }
    int touched = sc.touched;
    int[] latents = sc.ascendingLatents();
    int[] firings = new int[touched];
    double[] sums = new double[touched];
    float[] maxima = new float[touched];
    int[] histOffsets = new int[touched + 1];
    int histEntries = 0;
    for (int k = 0; k < touched; k++) {
      histEntries += sc.nonEmptyBins(k);
    }
    byte[] histBins = new byte[histEntries];
    int[] histCounts = new int[histEntries];
    SentFloors floors =
        sentFloors.computeIfAbsent(f.getSaeId(), id -> new SentFloors(f.getDSae(), limit));
    int[] candidateLatents = new int[touched];
    int[] candidateTokens = new int[touched];
    float[] candidateValues = new float[touched];
    int candidates = 0;
    int h = 0;
    for (int i = 0; i < touched; i++) {
      int latent = latents[i];
      int k = sc.slotOf(latent);
      firings[i] = sc.firings[k];
      sums[i] = sc.sums[k];
      maxima[i] = sc.maxima[k];
      h = sc.copyBins(k, histBins, histCounts, h);
      histOffsets[i + 1] = h;
      boolean watched = rateLatents.contains(latent);
      if (watched || floors.beats(latent, sc.maxima[k])) {
        candidateLatents[candidates] = latent;
        candidateTokens[candidates] = sc.strongestToken[k];
        candidateValues[candidates] = sc.maxima[k];
        candidates++;
        floors.offer(latent, sc.maxima[k]);
      }
    }
    return new BatchSummary(
        new BatchSummary.Header(
            f.getSaeId(),
            f.getSaeVersion(),
            f.getModelId(),
            f.getHookName(),
            f.getDSae(),
            f.getSequenceId(),
            f.getSourcePartition(),
            n,
            f.getStartPosition(),
            b.timestamp),
        new BatchSummary.Reconstruction(s.getFvu(), relSum, relCount, l0),
        new BatchSummary.Latents(latents, firings, sums, maxima, histOffsets, histBins, histCounts),
        new BatchSummary.Candidates(
            candidates == 0 ? null : b.contextText(),
            b.contextRadius(),
            Arrays.copyOf(candidateLatents, candidates),
            Arrays.copyOf(candidateTokens, candidates),
            Arrays.copyOf(candidateValues, candidates)));
  }

  /**
   * The values of the top contexts this task sent per latent of one SAE, strongest first, flat:
   * latent j owns slots [j·limit, (j+1)·limit).
   */
  private static final class SentFloors {
    private final int limit;
    private float[] values;

    SentFloors(int dSae, int limit) {
      this.limit = limit;
      this.values = new float[dSae * limit];
      Arrays.fill(values, Float.NEGATIVE_INFINITY);
    }

    boolean beats(int latent, float value) {
      ensure(latent);
      return value > values[latent * limit + limit - 1];
    }

    void offer(int latent, float value) {
      ensure(latent);
      int base = latent * limit;
      int i = limit - 1;
      if (!(value > values[base + i])) {
        return;
      }
      while (i > 0 && value > values[base + i - 1]) {
        values[base + i] = values[base + i - 1];
        i--;
      }
      values[base + i] = value;
    }

    private void ensure(int latent) {
      int needed = (latent + 1) * limit;
      if (needed > values.length) {
        // A hot swap may widen the SAE.
        int old = values.length;
        values = Arrays.copyOf(values, Math.max(needed, 2 * old));
        Arrays.fill(values, old, values.length, Float.NEGATIVE_INFINITY);
      }
    }
  }

  /**
   * Per-latent accumulators of one batch, reused across batches: latents get a dense slot on their
   * first firing, so a batch costs in proportion to its non-zeros, not to d_sae.
   */
  private static final class SummaryScratch {
    private int[] slotOf = new int[0];
    int[] latents = new int[64];
    int[] firings = new int[64];
    double[] sums = new double[64];
    float[] maxima = new float[64];
    int[] strongestToken = new int[64];
    private int[] bins = new int[64 * ActivationHistogram.BINS];
    int touched;

    void reset(int dSae) {
      for (int k = 0; k < touched; k++) {
        slotOf[latents[k]] = -1;
      }
      touched = 0;
      if (slotOf.length < dSae) {
        slotOf = new int[dSae];
        Arrays.fill(slotOf, -1);
      }
    }

    /** The latents touched, ascending: a scan of the dense slot table beats sorting them. */
    int[] ascendingLatents() {
      int[] out = new int[touched];
      int i = 0;
      for (int j = 0; i < touched; j++) {
        if (slotOf[j] >= 0) {
          out[i++] = j;
        }
      }
      return out;
    }

    int slotOf(int latent) {
      return slotOf[latent];
    }

    void add(int latent, float value, int token) {
      if (latent >= slotOf.length) {
        int old = slotOf.length;
        slotOf = Arrays.copyOf(slotOf, latent + 1);
        Arrays.fill(slotOf, old, slotOf.length, -1);
      }
      int k = slotOf[latent];
      if (k < 0) {
        k = touched++;
        if (k == latents.length) {
          grow();
        }
        slotOf[latent] = k;
        latents[k] = latent;
        firings[k] = 0;
        sums[k] = 0;
        maxima[k] = Float.NEGATIVE_INFINITY;
        Arrays.fill(bins, k * ActivationHistogram.BINS, (k + 1) * ActivationHistogram.BINS, 0);
      }
      firings[k]++;
      sums[k] += value;
      if (value > maxima[k]) {
        maxima[k] = value;
        strongestToken[k] = token;
      }
      bins[k * ActivationHistogram.BINS + ActivationHistogram.bin(value)]++;
    }

    int nonEmptyBins(int k) {
      int n = 0;
      for (int i = k * ActivationHistogram.BINS; i < (k + 1) * ActivationHistogram.BINS; i++) {
        if (bins[i] != 0) {
          n++;
        }
      }
      return n;
    }

    int copyBins(int k, byte[] toBins, int[] toCounts, int at) {
      int base = k * ActivationHistogram.BINS;
      for (int i = 0; i < ActivationHistogram.BINS; i++) {
        if (bins[base + i] != 0) {
          toBins[at] = (byte) i;
          toCounts[at] = bins[base + i];
          at++;
        }
      }
      return at;
    }

    private void grow() {
      int n = latents.length * 2;
      latents = Arrays.copyOf(latents, n);
      firings = Arrays.copyOf(firings, n);
      sums = Arrays.copyOf(sums, n);
      maxima = Arrays.copyOf(maxima, n);
      strongestToken = Arrays.copyOf(strongestToken, n);
      bins = Arrays.copyOf(bins, n * ActivationHistogram.BINS);
    }
  }
}
