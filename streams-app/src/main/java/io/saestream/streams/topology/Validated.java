package io.saestream.streams.topology;

import io.saestream.schema.v1.ActivationBatch;
import io.saestream.streams.errors.DeadLetter;
import io.saestream.streams.registry.SaeRoute;
import java.nio.FloatBuffer;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What {@link ValidateProcessor} forwards: a batch ready for inference or a rejected record. Lives
 * only for the synchronous {@code forward} call; never serialized.
 */
sealed interface Validated {

  /**
   * A valid batch with its activations as float32 and the SAEs to run.
   *
   * @param batch the decoded record
   * @param activations {@code n_tokens × d_in} floats, direct, position 0; valid during forward
   * @param route the SAEs of the batch's hook, retained until forward returns
   */
  record Accepted(ActivationBatch batch, FloatBuffer activations, SaeRoute route)
      implements Validated {
    public Accepted {
      Objects.requireNonNull(batch, "batch");
      Objects.requireNonNull(activations, "activations");
      Objects.requireNonNull(route, "route");
    }
  }

  /** A record that goes to the dead-letter topic, with its original value bytes. */
  final class Rejected implements Validated {

    private final DeadLetter deadLetter;
    private final byte @Nullable [] rawValue;

    /** Creates a rejection; {@code rawValue} is null when the record had no value. */
    Rejected(DeadLetter deadLetter, byte @Nullable [] rawValue) {
      this.deadLetter = Objects.requireNonNull(deadLetter, "deadLetter");
      this.rawValue = rawValue;
    }

    /** Why the record is rejected. */
    DeadLetter deadLetter() {
      return deadLetter;
    }

    /** The original value bytes (not copied: the record is never modified). */
    byte @Nullable [] rawValue() {
      return rawValue;
    }
  }
}
