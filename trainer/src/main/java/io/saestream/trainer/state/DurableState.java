package io.saestream.trainer.state;

import io.saestream.trainer.training.TrainerState;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.TopicPartition;

/**
 * What one generation of the trainer's durable state holds: every SAE's {@link TrainerState} and
 * last published version, and the consumer positions those states were taken at.
 *
 * <p>The positions are part of the state rather than left to the consumer group's committed offsets
 * because offsets and weights must move together: the states contain exactly the rows of the
 * records before {@link #positions()} (trained, held out or waiting in the mixing buffer), so a
 * trainer resumed from them and sought to those positions learns from every record once. Committed
 * offsets may be ahead of the state (a commit after a publication whose state save did not land:
 * the records in between would never be trained on) or behind it (states are saved between
 * publications: the records in between would be trained on twice). Immutable.
 *
 * @param savedAt when the states were taken
 * @param positions per partition, the offset of the next record to read
 * @param saes per sae_id, in configuration order
 */
public record DurableState(
    Instant savedAt, Map<TopicPartition, Long> positions, Map<String, SaeState> saes) {

  /** Validates and copies. */
  public DurableState {
    Objects.requireNonNull(savedAt, "savedAt");
    positions = Map.copyOf(positions);
    for (Map.Entry<TopicPartition, Long> e : positions.entrySet()) {
      if (e.getValue() < 0) {
        throw new IllegalArgumentException(
            "position of " + e.getKey() + " must be >= 0, was " + e.getValue());
      }
    }
    saes = Collections.unmodifiableMap(new LinkedHashMap<>(saes));
    if (saes.isEmpty()) {
      throw new IllegalArgumentException("a durable state needs at least one SAE");
    }
  }

  /**
   * One SAE's part.
   *
   * @param state its trainer's full state
   * @param lastVersion the highest version handed out for it so far (0 before the first): a resumed
   *     trainer publishes above it
   */
  public record SaeState(TrainerState state, long lastVersion) {

    /** Validates. */
    public SaeState {
      Objects.requireNonNull(state, "state");
      if (lastVersion < 0) {
        throw new IllegalArgumentException("last version must be >= 0, was " + lastVersion);
      }
    }
  }
}
