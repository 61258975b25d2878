package io.saestream.streams.monitoring;

import io.saestream.streams.errors.UndecodableRecordException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.jspecify.annotations.Nullable;

/**
 * What the per-sequence monitor sends about one analyzed batch of one SAE to the task that owns the
 * SAE (through the aggregates topic, keyed by sae_id): the batch's reconstruction sums, per latent
 * that fired its firing count, sum, maximum and histogram increments, and candidate top contexts.
 * Everything the per-SAE statistics and rules need, nothing per token but the batch's text, sent
 * once when a candidate context needs it. Immutable once built; the arrays are never handed out.
 *
 * <p>Latent arrays are parallel: entry {@code i} is latent {@code latents[i]}; its histogram
 * increments are {@code histBins/histCounts[histOffsets[i] .. histOffsets[i + 1])}. Candidate
 * contexts are (latent, token index, activation) triples over the batch's text, expanded into
 * {@link #contexts} with the sender's context width.
 *
 * <p>Wire form (format 2, big-endian, counts as unsigned varints): the header, then per latent in
 * ascending order the gap to the previous latent and its firing count, then either its maximum
 * alone (a latent that fired once: the sum is the maximum and the histogram its bin) or sum,
 * maximum and histogram entries; then the text and the candidates. A summary of a 256-token batch
 * of a k = 32 SAE is about 50 KB.
 */
final class BatchSummary {

  private static final byte FORMAT = 2;

  /** Upper bound on latents, tokens and candidates read from the wire (corrupt input). */
  private static final int MAX_COUNT = 1 << 26;

  final String saeId;
  final long saeVersion;
  final String modelId;
  final String hookName;
  final int dSae;
  final String sequenceId;

  /** Partition of the input topic the batch came from (the per-SAE watermark is per partition). */
  final int sourcePartition;

  final int nTokens;

  /** Position of the batch's first token in its sequence. */
  final long startPosition;

  /** Event time of the batch, ms since the epoch. */
  final long timestamp;

  /** The batch's FVU (NaN when undefined). */
  final double fvu;

  /** Sum of the finite per-token relative errors. */
  final double relativeErrorSum;

  /** Number of finite per-token relative errors. */
  final int relativeErrorCount;

  /** Sum of the per-token L0. */
  final long l0Sum;

  final int[] latents;
  final int[] firings;
  final double[] sums;
  final float[] maxima;
  final int[] histOffsets;
  final byte[] histBins;
  final int[] histCounts;

  /** The batch's text as contexts show it (redacted when configured), or null without text. */
  final @Nullable List<String> tokens;

  /** Tokens either side of the firing token in a context. */
  final int contextRadius;

  private final int[] candidateLatents;
  private final int[] candidateTokens;
  private final float[] candidateValues;

  /** The candidate contexts, in candidate order. */
  final List<LatentContext> contexts;

  /**
   * The wire form this summary was read from, or null when built here: written again as is (a
   * per-SAE task stores each summary it reads as a statistics delta). Never handed out otherwise.
   */
  private byte @Nullable [] encoded;

  /** A context candidate of one latent. */
  record LatentContext(int latent, ContextEntry entry) {
    LatentContext {
      Objects.requireNonNull(entry, "entry");
    }
  }

  /** The batch a summary is about. */
  record Header(
      String saeId,
      long saeVersion,
      String modelId,
      String hookName,
      int dSae,
      String sequenceId,
      int sourcePartition,
      int nTokens,
      long startPosition,
      long timestamp) {
    Header {
      Objects.requireNonNull(saeId, "saeId");
      Objects.requireNonNull(modelId, "modelId");
      Objects.requireNonNull(hookName, "hookName");
      Objects.requireNonNull(sequenceId, "sequenceId");
      if (nTokens < 0 || dSae < 0) {
        throw new IllegalArgumentException(
            "n_tokens and d_sae must be >= 0, were " + nTokens + " and " + dSae);
      }
    }
  }

  /** The batch's reconstruction sums. */
  record Reconstruction(double fvu, double relativeErrorSum, int relativeErrorCount, long l0Sum) {}

  /**
   * Per latent that fired, parallel arrays (see the class comment). A constructor argument only:
   * never compared, and the summary keeps the arrays private to its package.
   */
  @SuppressWarnings("ArrayRecordComponent")
  record Latents(
      int[] latents,
      int[] firings,
      double[] sums,
      float[] maxima,
      int[] histOffsets,
      byte[] histBins,
      int[] histCounts) {}

  /** Candidate contexts: parallel (latent, token index, activation) arrays; an argument only. */
  @SuppressWarnings("ArrayRecordComponent")
  record Candidates(
      @Nullable List<String> tokens, int radius, int[] latents, int[] tokenIndex, float[] values) {

    /** No candidates. */
    static Candidates none() {
      return new Candidates(null, 0, new int[0], new int[0], new float[0]);
    }
  }

  BatchSummary(Header h, Reconstruction r, Latents l, Candidates c) {
    this.saeId = h.saeId();
    this.saeVersion = h.saeVersion();
    this.modelId = h.modelId();
    this.hookName = h.hookName();
    this.dSae = h.dSae();
    this.sequenceId = h.sequenceId();
    this.sourcePartition = h.sourcePartition();
    this.nTokens = h.nTokens();
    this.startPosition = h.startPosition();
    this.timestamp = h.timestamp();
    this.fvu = r.fvu();
    this.relativeErrorSum = r.relativeErrorSum();
    this.relativeErrorCount = r.relativeErrorCount();
    this.l0Sum = r.l0Sum();
    int n = l.latents().length;
    if (l.firings().length != n
        || l.sums().length != n
        || l.maxima().length != n
        || l.histOffsets().length != n + 1
        || l.histBins().length != l.histCounts().length
        || l.histOffsets()[n] != l.histBins().length) {
      throw new IllegalArgumentException(
          "latent arrays must be parallel: "
              + n
              + " latents, "
              + l.firings().length
              + " firings, "
              + l.sums().length
              + " sums, "
              + l.maxima().length
              + " maxima, "
              + l.histOffsets().length
              + " histogram offsets, "
              + l.histBins().length
              + " bins, "
              + l.histCounts().length
              + " counts");
    }
    for (int i = 0; i < n; i++) {
      if (l.latents()[i] < 0 || (i > 0 && l.latents()[i] <= l.latents()[i - 1])) {
        throw new IllegalArgumentException(
            "latents must be ascending and >= 0, found " + l.latents()[i] + " at " + i);
      }
    }
    this.latents = l.latents();
    this.firings = l.firings();
    this.sums = l.sums();
    this.maxima = l.maxima();
    this.histOffsets = l.histOffsets();
    this.histBins = l.histBins();
    this.histCounts = l.histCounts();
    int m = c.latents().length;
    if (c.tokenIndex().length != m || c.values().length != m || c.radius() < 0) {
      throw new IllegalArgumentException(
          "candidate arrays must be parallel: "
              + m
              + " latents, "
              + c.tokenIndex().length
              + " token indices, "
              + c.values().length
              + " values");
    }
    List<String> text = c.tokens() == null ? null : List.copyOf(c.tokens());
    if (text != null && text.size() != nTokens) {
      throw new IllegalArgumentException(
          "the text must have n_tokens = " + nTokens + " entries, had " + text.size());
    }
    this.tokens = text;
    this.contextRadius = c.radius();
    this.candidateLatents = c.latents();
    this.candidateTokens = c.tokenIndex();
    this.candidateValues = c.values();
    List<LatentContext> expanded = new ArrayList<>(m);
    for (int k = 0; k < m; k++) {
      int t = candidateTokens[k];
      if (t < 0 || t >= nTokens) {
        throw new IllegalArgumentException(
            "candidate token index out of range [0, " + nTokens + "): " + t);
      }
      expanded.add(new LatentContext(candidateLatents[k], contextAt(t, candidateValues[k])));
    }
    this.contexts = List.copyOf(expanded);
  }

  /** The context of token {@code t} at activation {@code value}, as BatchView builds it. */
  private ContextEntry contextAt(int t, double value) {
    List<String> window = List.of();
    int focus = -1;
    List<String> text = tokens;
    if (text != null) {
      int from = Math.max(0, t - contextRadius);
      int to = Math.min(text.size(), t + contextRadius + 1);
      window = text.subList(from, to);
      focus = t - from;
    }
    return new ContextEntry(
        value,
        sequenceId,
        (int) Math.min(Integer.MAX_VALUE, startPosition + t),
        window,
        focus,
        timestamp);
  }

  /** Number of latents that fired in the batch. */
  int size() {
    return latents.length;
  }

  /** The cell of entry {@code i} (latent {@code latents[i]}). */
  LatentCell cell(int i) {
    return new LatentCell(
        firings[i],
        sums[i],
        maxima[i],
        ActivationHistogram.empty().plus(histBins, histCounts, histOffsets[i], histOffsets[i + 1]));
  }

  /** The index of {@code latent} in {@link #latents}, or −1 when it did not fire. */
  int indexOf(int latent) {
    int i = Arrays.binarySearch(latents, latent);
    return i >= 0 ? i : -1;
  }

  /** The context candidate of {@code latent}, or null. */
  @Nullable ContextEntry context(int latent) {
    for (LatentContext c : contexts) {
      if (c.latent() == latent) {
        return c.entry();
      }
    }
    return null;
  }

  /** Compact binary serde (see the class comment); the topic is internal to this app. */
  static Serde<BatchSummary> serde() {
    Serializer<BatchSummary> ser = (topic, s) -> s == null ? null : write(s);
    Deserializer<BatchSummary> de = (topic, bytes) -> bytes == null ? null : read(bytes);
    return Serdes.serdeFrom(ser, de);
  }

  static byte[] write(BatchSummary s) {
    byte[] known = s.encoded;
    if (known != null) {
      return known;
    }
    int n = s.latents.length;
    WireWriter out = new WireWriter(256 + 12 * n);
    out.u8(FORMAT);
    out.string(s.saeId).varlong(s.saeVersion).string(s.modelId).string(s.hookName);
    out.varint(s.dSae).string(s.sequenceId).varint(s.sourcePartition).varint(s.nTokens);
    out.i64(s.startPosition).i64(s.timestamp);
    out.f64(s.fvu).f64(s.relativeErrorSum).varint(s.relativeErrorCount).varlong(s.l0Sum);
    out.varint(n);
    int previous = -1;
    for (int i = 0; i < n; i++) {
      out.varint(s.latents[i] - previous - 1);
      previous = s.latents[i];
      int from = s.histOffsets[i];
      int to = s.histOffsets[i + 1];
      boolean single =
          s.firings[i] == 1
              && s.sums[i] == (double) s.maxima[i]
              && to - from == 1
              && s.histCounts[from] == 1
              && s.histBins[from] == ActivationHistogram.bin(s.maxima[i]);
      out.varint(s.firings[i]);
      if (single) {
        out.u8(1).f32(s.maxima[i]);
        continue;
      }
      out.u8(0).f64(s.sums[i]).f32(s.maxima[i]).u8(to - from);
      for (int k = from; k < to; k++) {
        out.u8(s.histBins[k]).varint(s.histCounts[k]);
      }
    }
    List<String> text = s.tokens;
    out.u8(text == null ? 0 : 1);
    if (text != null) {
      for (String t : text) {
        out.string(t);
      }
    }
    out.varint(s.contextRadius);
    int m = s.candidateLatents.length;
    out.varint(m);
    for (int k = 0; k < m; k++) {
      out.varint(s.candidateLatents[k]).varint(s.candidateTokens[k]).f32(s.candidateValues[k]);
    }
    return out.toByteArray();
  }

  static BatchSummary read(byte[] bytes) {
    try {
      WireReader in = new WireReader(bytes);
      int format = in.u8();
      if (format != FORMAT) {
        throw new UndecodableRecordException(
            "batch summary format must be " + FORMAT + ", was " + format,
            new IllegalArgumentException("unknown format " + format));
      }
      Header h =
          new Header(
              in.string(),
              in.varlong(),
              in.string(),
              in.string(),
              in.varint(),
              in.string(),
              in.varint(),
              in.count("n_tokens", MAX_COUNT, 0),
              in.i64(),
              in.i64());
      Reconstruction r = new Reconstruction(in.f64(), in.f64(), in.varint(), in.varlong());
      int n = in.count("latents", MAX_COUNT, 3);
      int[] latents = new int[n];
      int[] firings = new int[n];
      double[] sums = new double[n];
      float[] maxima = new float[n];
      int[] offsets = new int[n + 1];
      byte[] bins = new byte[n + 16];
      int[] counts = new int[bins.length];
      int used = 0;
      int previous = -1;
      for (int i = 0; i < n; i++) {
        long latent = (long) previous + 1 + in.varint();
        if (latent > Integer.MAX_VALUE) {
          throw new IllegalArgumentException("latent out of range: " + latent);
        }
        previous = (int) latent;
        latents[i] = previous;
        firings[i] = in.varint();
        boolean single = in.u8() == 1;
        int m;
        if (single) {
          maxima[i] = in.f32();
          sums[i] = maxima[i];
          m = 1;
        } else {
          sums[i] = in.f64();
          maxima[i] = in.f32();
          m = in.u8();
          if (m > ActivationHistogram.BINS) {
            throw new IllegalArgumentException("histogram entries out of range: " + m);
          }
        }
        if (used + m > bins.length) {
          int capacity = Math.max(2 * bins.length, used + m);
          bins = Arrays.copyOf(bins, capacity);
          counts = Arrays.copyOf(counts, capacity);
        }
        if (single) {
          bins[used] = (byte) ActivationHistogram.bin(maxima[i]);
          counts[used] = 1;
          used++;
        } else {
          for (int k = 0; k < m; k++) {
            int bin = in.u8();
            if (bin >= ActivationHistogram.BINS) {
              throw new IllegalArgumentException("histogram bin out of range: " + bin);
            }
            bins[used] = (byte) bin;
            counts[used] = in.varint();
            used++;
          }
        }
        offsets[i + 1] = used;
      }
      Latents l =
          new Latents(
              latents,
              firings,
              sums,
              maxima,
              offsets,
              Arrays.copyOf(bins, used),
              Arrays.copyOf(counts, used));
      List<String> text = null;
      if (in.u8() == 1) {
        if (h.nTokens() > in.remaining()) {
          throw new IllegalArgumentException("text of " + h.nTokens() + " tokens is truncated");
        }
        List<String> t = new ArrayList<>(h.nTokens());
        for (int i = 0; i < h.nTokens(); i++) {
          t.add(in.string());
        }
        text = t;
      }
      int radius = in.varint();
      int m = in.count("candidates", MAX_COUNT, 6);
      int[] cl = new int[m];
      int[] ct = new int[m];
      float[] cv = new float[m];
      for (int k = 0; k < m; k++) {
        cl[k] = in.varint();
        ct[k] = in.varint();
        cv[k] = in.f32();
      }
      in.end("batch summary");
      BatchSummary s = new BatchSummary(h, r, l, new Candidates(text, radius, cl, ct, cv));
      s.encoded = bytes;
      return s;
    } catch (IllegalArgumentException e) {
      throw new UndecodableRecordException("cannot read a batch summary: " + e.getMessage(), e);
    }
  }
}
