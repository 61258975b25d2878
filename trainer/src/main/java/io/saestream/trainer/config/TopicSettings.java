package io.saestream.trainer.config;

import java.util.Objects;

/**
 * The topics the trainer reads and writes. Immutable.
 *
 * @param activations {@code topics.activations}
 * @param checkpoints {@code topics.checkpoints}
 */
public record TopicSettings(String activations, String checkpoints) {

  /** Default {@code topics.activations}. */
  public static final String DEFAULT_ACTIVATIONS = "sae.activations.v1";

  /** Default {@code topics.checkpoints}. */
  public static final String DEFAULT_CHECKPOINTS = "sae.checkpoints.v1";

  /** Validates the names. */
  public TopicSettings {
    Objects.requireNonNull(activations, "activations");
    Objects.requireNonNull(checkpoints, "checkpoints");
    if (activations.isBlank()) {
      throw new IllegalArgumentException("topics.activations must not be blank");
    }
    if (checkpoints.isBlank()) {
      throw new IllegalArgumentException("topics.checkpoints must not be blank");
    }
    if (activations.equals(checkpoints)) {
      throw new IllegalArgumentException(
          "topics.checkpoints must differ from topics.activations, both were " + activations);
    }
  }
}
