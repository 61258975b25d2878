package io.saestream.trainer.config;

import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * Where and how often the trainer keeps its durable state ({@code state.*}). Immutable.
 *
 * @param dir {@code state.dir}: the state directory, or null for none (a restarted trainer then
 *     starts from fresh weights and re-reads what no published version learned from)
 * @param everySteps {@code state.every-steps}: a state is also saved whenever an SAE has taken this
 *     many optimizer steps since the last save (besides every publication and the shutdown)
 * @param keep {@code state.keep}: generations kept, at least 1; 2 or more leave one to fall back to
 *     when the newest is found damaged
 */
public record StateSettings(@Nullable Path dir, long everySteps, int keep) {

  /** Validates every field. */
  public StateSettings {
    if (everySteps <= 0) {
      throw new IllegalArgumentException("state.every-steps must be > 0, was " + everySteps);
    }
    if (keep < 1) {
      throw new IllegalArgumentException("state.keep must be >= 1, was " + keep);
    }
  }

  /** No state directory; 500 steps and 2 generations once one is set. */
  public static StateSettings defaults() {
    return new StateSettings(null, 500, 2);
  }

  /** These settings with the state kept in {@code directory}. */
  public StateSettings withDir(Path directory) {
    return new StateSettings(directory, everySteps, keep);
  }

  /** Whether a state directory is configured. */
  public boolean enabled() {
    return dir != null;
  }
}
