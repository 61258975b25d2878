package io.saestream.streams.monitoring;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The strongest activating contexts of one latent, at most a fixed number, strongest first.
 *
 * @param entries strongest first
 */
public record TopContexts(List<ContextEntry> entries) {

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
}
