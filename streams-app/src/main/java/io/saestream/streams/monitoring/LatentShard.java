package io.saestream.streams.monitoring;

import java.util.Objects;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.jspecify.annotations.Nullable;

/**
 * The statistics of one SAE in one window for one shard of its latents ({@value #SIZE} consecutive
 * latents), as of a snapshot: the cells of the shard's latents that fired, and the sequence number
 * of the last statistics delta folded in (deltas after it are still pending, see {@link
 * WindowAccumulator}). Held in its encoded form, so that the store's serializer costs nothing and a
 * reader decodes only what it asks for. Immutable.
 *
 * <p>Encoding (big-endian, counts as unsigned varints): format byte, through-sequence, number of
 * latents, then per latent in ascending order its gap to the previous one, firings, sum (double),
 * maximum (float) and the histogram's non-empty bins (count byte, then bin byte and count each).
 */
final class LatentShard {

  /** Latents per shard. */
  static final int SIZE = 1024;

  private static final int FORMAT = 1;

  private final byte[] bytes;
  private final long throughSequence;

  private LatentShard(byte[] bytes) {
    this.bytes = bytes;
    WireReader in = header(bytes);
    this.throughSequence = in.varlong() - 1;
  }

  /** The shard holding {@code latent}. */
  static int shardOf(int latent) {
    return latent / SIZE;
  }

  /** Receives the cells of a shard. */
  @FunctionalInterface
  interface CellConsumer {
    void accept(int latent, LatentCell cell);
  }

  /**
   * Encodes the cells of the latents in [{@code shard}·SIZE, (shard + 1)·SIZE) that fired in {@code
   * window}; null when none fired.
   */
  static @Nullable LatentShard encode(int shard, long throughSequence, WindowAccumulator window) {
    int from = shard * SIZE;
    int to = Math.min(window.width(), from + SIZE);
    int n = 0;
    for (int j = from; j < to; j++) {
      if (window.firings(j) != 0) {
        n++;
      }
    }
    if (n == 0) {
      return null;
    }
    WireWriter out = new WireWriter(16 + 24 * n);
    out.u8(FORMAT).varlong(throughSequence + 1).varint(n);
    int previous = -1;
    for (int j = from; j < to; j++) {
      if (window.firings(j) == 0) {
        continue;
      }
      out.varint(j - previous - 1).varlong(window.firings(j)).f64(window.sum(j)).f32(window.max(j));
      previous = j;
      long[] counts = window.counts(j);
      int nonEmpty = 0;
      for (long c : counts) {
        if (c != 0) {
          nonEmpty++;
        }
      }
      out.u8(nonEmpty);
      for (int bin = 0; bin < counts.length; bin++) {
        if (counts[bin] != 0) {
          out.u8(bin).varlong(counts[bin]);
        }
      }
    }
    return new LatentShard(out.toByteArray());
  }

  /** The sequence number of the last delta folded into this snapshot, −1 for none. */
  long throughSequence() {
    return throughSequence;
  }

  /** Decodes the cells, ascending by latent. */
  void forEach(CellConsumer consumer) {
    WireReader in = header(bytes);
    in.varlong();
    int n = in.count("latents", SIZE, 15);
    long latent = -1;
    for (int i = 0; i < n; i++) {
      latent += 1 + in.varint();
      if (latent > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("latent out of range: " + latent);
      }
      long firings = in.varlong();
      double sum = in.f64();
      double max = in.f32();
      int nonEmpty = in.u8();
      if (nonEmpty > ActivationHistogram.BINS) {
        throw new IllegalArgumentException("histogram entries out of range: " + nonEmpty);
      }
      long[] counts = new long[ActivationHistogram.BINS];
      for (int k = 0; k < nonEmpty; k++) {
        int bin = in.u8();
        if (bin >= ActivationHistogram.BINS) {
          throw new IllegalArgumentException("histogram bin out of range: " + bin);
        }
        counts[bin] = in.varlong();
      }
      consumer.accept(
          (int) latent, new LatentCell(firings, sum, max, ActivationHistogram.of(counts)));
    }
    in.end("latent shard");
  }

  private static WireReader header(byte[] bytes) {
    WireReader in = new WireReader(bytes);
    int format = in.u8();
    if (format != FORMAT) {
      throw new IllegalArgumentException(
          "latent shard format must be " + FORMAT + ", was " + format);
    }
    return in;
  }

  /** Serde over the encoded form; reading checks the header only (cells decode on use). */
  static Serde<LatentShard> serde() {
    Serializer<LatentShard> ser = (topic, s) -> s == null ? null : s.bytes;
    Deserializer<LatentShard> de =
        (topic, bytes) -> bytes == null ? null : new LatentShard(Objects.requireNonNull(bytes));
    return Serdes.serdeFrom(ser, de);
  }
}
