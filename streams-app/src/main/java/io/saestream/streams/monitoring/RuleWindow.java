package io.saestream.streams.monitoring;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The state of one rule in one window (of one sequence, for per-sequence rules). Mutable; owned by
 * the monitor processor of one task between a store read and the store write.
 */
final class RuleWindow {

  /** Sequence ids listed on aggregate alerts at most. */
  static final int MAX_SEQUENCES = 8;

  /** Tokens seen. */
  public long tokens;

  /** Tokens that satisfied the rule's token condition (threshold hits, latent firings). */
  public long hits;

  /** Running sum of the measured value (probe scores, error sums). */
  public double sum;

  /** Largest measured value. */
  public double max = Double.NEGATIVE_INFINITY;

  /** Whether the alert of this window was already emitted (deduplication). */
  public boolean fired;

  /** Sequences that contributed hits (aggregate rules), first {@value #MAX_SEQUENCES}. */
  public List<String> sequences = new ArrayList<>();

  /** Highest SAE version seen in the window. */
  public long saeVersion;

  /** The strongest context so far, or null. */
  public @Nullable ContextEntry best;

  void addSequence(String sequenceId) {
    if (sequences.size() < MAX_SEQUENCES && !sequences.contains(sequenceId)) {
      sequences.add(sequenceId);
    }
  }

  void offer(ContextEntry context) {
    ContextEntry b = best;
    if (b == null || context.value() > b.value()) {
      best = context;
    }
  }
}
