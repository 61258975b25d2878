package io.saestream.streams.monitoring;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * What the per-sequence monitor sends about one analyzed batch of one SAE to the task that owns the
 * SAE (through the aggregates topic, keyed by sae_id): the batch's reconstruction sums, per latent
 * that fired its firing count, sum, maximum and histogram increments, and candidate top contexts.
 * Everything the per-SAE statistics and rules need, nothing per token. Immutable once built; the
 * arrays are never handed out.
 *
 * <p>Latent arrays are parallel: entry {@code i} is latent {@code latents[i]}; its histogram
 * increments are {@code histBins/histCounts[histOffsets[i] .. histOffsets[i + 1])}.
 */
final class BatchSummary {

  private static final byte FORMAT = 1;

  final String saeId;
  final long saeVersion;
  final String modelId;
  final String hookName;
  final int dSae;
  final String sequenceId;

  /** Partition of the input topic the batch came from (the per-SAE watermark is per partition). */
  final int sourcePartition;

  final int nTokens;

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
  final List<LatentContext> contexts;

  /** A context candidate of one latent. */
  record LatentContext(int latent, ContextEntry entry) {
    LatentContext {
      Objects.requireNonNull(entry, "entry");
    }
  }

  @SuppressWarnings("TooManyParameters")
  BatchSummary(
      String saeId,
      long saeVersion,
      String modelId,
      String hookName,
      int dSae,
      String sequenceId,
      int sourcePartition,
      int nTokens,
      double fvu,
      double relativeErrorSum,
      int relativeErrorCount,
      long l0Sum,
      int[] latents,
      int[] firings,
      double[] sums,
      float[] maxima,
      int[] histOffsets,
      byte[] histBins,
      int[] histCounts,
      List<LatentContext> contexts) {
    this.saeId = Objects.requireNonNull(saeId, "saeId");
    this.saeVersion = saeVersion;
    this.modelId = Objects.requireNonNull(modelId, "modelId");
    this.hookName = Objects.requireNonNull(hookName, "hookName");
    this.dSae = dSae;
    this.sequenceId = Objects.requireNonNull(sequenceId, "sequenceId");
    this.sourcePartition = sourcePartition;
    this.nTokens = nTokens;
    this.fvu = fvu;
    this.relativeErrorSum = relativeErrorSum;
    this.relativeErrorCount = relativeErrorCount;
    this.l0Sum = l0Sum;
    int n = latents.length;
    if (firings.length != n
        || sums.length != n
        || maxima.length != n
        || histOffsets.length != n + 1
        || histBins.length != histCounts.length
        || histOffsets[n] != histBins.length) {
      throw new IllegalArgumentException(
          "latent arrays must be parallel: "
              + n
              + " latents, "
              + firings.length
              + " firings, "
              + sums.length
              + " sums, "
              + maxima.length
              + " maxima, "
              + histOffsets.length
              + " histogram offsets, "
              + histBins.length
              + " bins, "
              + histCounts.length
              + " counts");
    }
    this.latents = latents;
    this.firings = firings;
    this.sums = sums;
    this.maxima = maxima;
    this.histOffsets = histOffsets;
    this.histBins = histBins;
    this.histCounts = histCounts;
    this.contexts = List.copyOf(contexts);
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
    for (int i = 0; i < latents.length; i++) {
      if (latents[i] == latent) {
        return i;
      }
    }
    return -1;
  }

  /** The context candidate of {@code latent}, or null. */
  @org.jspecify.annotations.Nullable
  ContextEntry context(int latent) {
    for (LatentContext c : contexts) {
      if (c.latent() == latent) {
        return c.entry();
      }
    }
    return null;
  }

  /** Compact binary serde (format byte, then fields); the topic is internal to this app. */
  static Serde<BatchSummary> serde() {
    Serializer<BatchSummary> ser = (topic, s) -> s == null ? null : write(s);
    Deserializer<BatchSummary> de = (topic, bytes) -> bytes == null ? null : read(bytes);
    return Serdes.serdeFrom(ser, de);
  }

  private static byte[] write(BatchSummary s) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + 24 * s.latents.length);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(FORMAT);
      writeString(out, s.saeId);
      out.writeLong(s.saeVersion);
      writeString(out, s.modelId);
      writeString(out, s.hookName);
      out.writeInt(s.dSae);
      writeString(out, s.sequenceId);
      out.writeInt(s.sourcePartition);
      out.writeInt(s.nTokens);
      out.writeDouble(s.fvu);
      out.writeDouble(s.relativeErrorSum);
      out.writeInt(s.relativeErrorCount);
      out.writeLong(s.l0Sum);
      int n = s.latents.length;
      out.writeInt(n);
      for (int i = 0; i < n; i++) {
        out.writeInt(s.latents[i]);
        out.writeInt(s.firings[i]);
        out.writeDouble(s.sums[i]);
        out.writeFloat(s.maxima[i]);
        int from = s.histOffsets[i];
        int to = s.histOffsets[i + 1];
        out.writeByte(to - from);
        for (int k = from; k < to; k++) {
          out.writeByte(s.histBins[k]);
          out.writeInt(s.histCounts[k]);
        }
      }
      out.writeInt(s.contexts.size());
      for (LatentContext c : s.contexts) {
        ContextEntry e = c.entry();
        out.writeInt(c.latent());
        out.writeDouble(e.value());
        writeString(out, e.sequenceId());
        out.writeInt(e.position());
        out.writeInt(e.focusIndex());
        out.writeLong(e.timestamp());
        out.writeInt(e.tokens().size());
        for (String t : e.tokens()) {
          writeString(out, t);
        }
      }
    } catch (IOException e) {
      throw new SerializationException("cannot write a batch summary of " + s.saeId, e);
    }
    return bytes.toByteArray();
  }

  private static BatchSummary read(byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      byte format = in.readByte();
      if (format != FORMAT) {
        throw new SerializationException(
            "batch summary format must be " + FORMAT + ", was " + format);
      }
      String saeId = readString(in);
      long saeVersion = in.readLong();
      String modelId = readString(in);
      String hookName = readString(in);
      int dSae = in.readInt();
      String sequenceId = readString(in);
      int sourcePartition = in.readInt();
      int nTokens = in.readInt();
      double fvu = in.readDouble();
      double relSum = in.readDouble();
      int relCount = in.readInt();
      long l0Sum = in.readLong();
      int n = count(in.readInt(), bytes.length);
      int[] latents = new int[n];
      int[] firings = new int[n];
      double[] sums = new double[n];
      float[] maxima = new float[n];
      int[] offsets = new int[n + 1];
      byte[] bins = new byte[Math.max(4, 2 * n)];
      int[] counts = new int[bins.length];
      int used = 0;
      for (int i = 0; i < n; i++) {
        latents[i] = in.readInt();
        firings[i] = in.readInt();
        sums[i] = in.readDouble();
        maxima[i] = in.readFloat();
        int m = in.readUnsignedByte();
        if (m > ActivationHistogram.BINS) {
          throw new IllegalArgumentException("histogram entries out of range: " + m);
        }
        if (used + m > bins.length) {
          int capacity = Math.max(2 * bins.length, used + m);
          bins = Arrays.copyOf(bins, capacity);
          counts = Arrays.copyOf(counts, capacity);
        }
        for (int k = 0; k < m; k++) {
          int bin = in.readByte();
          if (bin < 0 || bin >= ActivationHistogram.BINS) {
            throw new IllegalArgumentException("histogram bin out of range: " + bin);
          }
          bins[used] = (byte) bin;
          counts[used] = in.readInt();
          used++;
        }
        offsets[i + 1] = used;
      }
      byte[] histBins = Arrays.copyOf(bins, used);
      int[] histCounts = Arrays.copyOf(counts, used);
      int nc = count(in.readInt(), bytes.length);
      List<LatentContext> contexts = new ArrayList<>(nc);
      for (int c = 0; c < nc; c++) {
        int latent = in.readInt();
        double value = in.readDouble();
        String seq = readString(in);
        int position = in.readInt();
        int focus = in.readInt();
        long timestamp = in.readLong();
        int nt = count(in.readInt(), bytes.length);
        List<String> tokens = new ArrayList<>(nt);
        for (int t = 0; t < nt; t++) {
          tokens.add(readString(in));
        }
        contexts.add(
            new LatentContext(
                latent, new ContextEntry(value, seq, position, tokens, focus, timestamp)));
      }
      return new BatchSummary(
          saeId,
          saeVersion,
          modelId,
          hookName,
          dSae,
          sequenceId,
          sourcePartition,
          nTokens,
          fvu,
          relSum,
          relCount,
          l0Sum,
          latents,
          firings,
          sums,
          maxima,
          offsets,
          histBins,
          histCounts,
          contexts);
    } catch (IOException | IllegalArgumentException e) {
      throw new SerializationException("cannot read a batch summary", e);
    }
  }

  private static int count(int n, int limit) {
    if (n < 0 || n > limit) {
      throw new IllegalArgumentException("count out of range: " + n);
    }
    return n;
  }

  private static void writeString(DataOutputStream out, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  private static String readString(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > in.available()) {
      throw new IOException("string length out of range: " + n);
    }
    byte[] b = new byte[n];
    in.readFully(b);
    return new String(b, StandardCharsets.UTF_8);
  }
}
