package io.saestream.streams.monitoring;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The strongest activating contexts of one latent, at most a fixed number, strongest first.
 *
 * @param entries strongest first
 */
public record TopContexts(List<ContextEntry> entries) {

  private static final int FORMAT = 1;

  /** Copies the entries. */
  public TopContexts {
    entries = List.copyOf(entries);
  }

  /** The weakest kept value, or −∞ while fewer than {@code limit} are kept. */
  double floor(int limit) {
    return entries.size() < limit
        ? Double.NEGATIVE_INFINITY
        : entries.get(entries.size() - 1).value();
  }

  /** These plus {@code entry}, cut to the {@code limit} strongest. */
  TopContexts with(ContextEntry entry, int limit) {
    List<ContextEntry> all = new ArrayList<>(entries);
    all.add(entry);
    all.sort(Comparator.comparingDouble(ContextEntry::value).reversed());
    return new TopContexts(all.subList(0, Math.min(limit, all.size())));
  }

  /** Merges two lists (from two tasks or instances), cut to {@code limit}. */
  public TopContexts merge(TopContexts other, int limit) {
    TopContexts merged = this;
    for (ContextEntry e : other.entries) {
      merged = merged.with(e, limit);
    }
    return merged;
  }

  /**
   * Binary serde: format byte, number of entries, then per entry its activation (double), sequence
   * id, position, timestamp, focus index + 1 and tokens (strings as UTF-8 after a varint length).
   */
  static Serde<TopContexts> serde() {
    Serializer<TopContexts> ser = (topic, t) -> t == null ? null : write(t);
    Deserializer<TopContexts> de = (topic, bytes) -> bytes == null ? null : read(bytes);
    return Serdes.serdeFrom(ser, de);
  }

  private static byte[] write(TopContexts t) {
    WireWriter out = new WireWriter(64 + 128 * t.entries.size());
    out.u8(FORMAT).varint(t.entries.size());
    for (ContextEntry e : t.entries) {
      out.f64(e.value()).string(e.sequenceId()).varint(e.position()).i64(e.timestamp());
      out.varint(e.focusIndex() + 1).varint(e.tokens().size());
      for (String token : e.tokens()) {
        out.string(token);
      }
    }
    return out.toByteArray();
  }

  private static TopContexts read(byte[] bytes) {
    try {
      WireReader in = new WireReader(bytes);
      int format = in.u8();
      if (format != FORMAT) {
        throw new IllegalArgumentException(
            "top contexts format must be " + FORMAT + ", was " + format);
      }
      int n = in.count("contexts", Integer.MAX_VALUE, 12);
      List<ContextEntry> entries = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        double value = in.f64();
        String sequenceId = in.string();
        int position = in.varint();
        long timestamp = in.i64();
        int focus = in.varint() - 1;
        int m = in.count("tokens", Integer.MAX_VALUE, 1);
        List<String> tokens = new ArrayList<>(m);
        for (int k = 0; k < m; k++) {
          tokens.add(in.string());
        }
        entries.add(new ContextEntry(value, sequenceId, position, tokens, focus, timestamp));
      }
      in.end("top contexts");
      return new TopContexts(entries);
    } catch (IllegalArgumentException e) {
      throw new SerializationException("cannot read top contexts: " + e.getMessage(), e);
    }
  }
}
