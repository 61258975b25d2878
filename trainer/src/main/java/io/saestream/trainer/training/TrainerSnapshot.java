package io.saestream.trainer.training;

import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A consistent copy of a trainer's state between two steps: the four parameters in sae-lens layout,
 * optionally the Adam moments (for resume), and the scalars that go with them. The arrays are owned
 * by the snapshot; callers must not modify them. Immutable by convention and safe to hand to
 * another thread.
 *
 * @param settings the settings the trainer runs with
 * @param step optimizer steps taken
 * @param tokensTrained tokens the steps consumed
 * @param wEnc {@code [d_in, d_sae]}
 * @param bEnc {@code [d_sae]}
 * @param wDec {@code [d_sae, d_in]}
 * @param bDec {@code [d_in]}
 * @param moments the eight Adam moments in {@link io.saestream.sae.training.SaeParameter} order,
 *     first then second moment of each; empty when not captured
 * @param activationScale the {@code expected_average_only_in} scale s, NaN when not scaling
 * @param threshold the BatchTopK threshold (training scale), 0 for TopK
 * @param tokensSinceFired per latent, tokens since it last fired
 * @param logDensities log10 firing density per latent over the last evaluation window
 * @param evaluation the last evaluation report, null before the first
 */
// The arrays are large (the whole SAE); copying them on every access would defeat the snapshot.
@SuppressWarnings("ArrayRecordComponent")
public record TrainerSnapshot(
    TrainingSettings settings,
    long step,
    long tokensTrained,
    float[] wEnc,
    float[] bEnc,
    float[] wDec,
    float[] bDec,
    List<float[]> moments,
    double activationScale,
    double threshold,
    long[] tokensSinceFired,
    float[] logDensities,
    @Nullable EvaluationReport evaluation) {

  /** Checks the shapes. */
  public TrainerSnapshot {
    Objects.requireNonNull(settings, "settings");
    int dIn = settings.dIn();
    int dSae = settings.dSae();
    requireLength("W_enc", wEnc, (long) dIn * dSae);
    requireLength("b_enc", bEnc, dSae);
    requireLength("W_dec", wDec, (long) dSae * dIn);
    requireLength("b_dec", bDec, dIn);
    moments = List.copyOf(moments);
    if (!moments.isEmpty() && moments.size() != 8) {
      throw new IllegalArgumentException("moments must hold 0 or 8 arrays, has " + moments.size());
    }
    if (tokensSinceFired.length != dSae) {
      throw new IllegalArgumentException(
          "tokens_since_fired must have d_sae="
              + dSae
              + " entries, has "
              + tokensSinceFired.length);
    }
  }

  /** Whether the activations were scaled while training. */
  public boolean scaled() {
    return !Double.isNaN(activationScale);
  }

  private static void requireLength(String name, float[] values, long expected) {
    if (values.length != expected) {
      throw new IllegalArgumentException(
          name + " must have " + expected + " elements, has " + values.length);
    }
  }
}
