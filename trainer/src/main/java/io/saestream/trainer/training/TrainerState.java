package io.saestream.trainer.training;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Everything a {@link SaeTrainer} needs to continue exactly where it was stopped: the parameters,
 * Adam moments, step and counters ({@link #snapshot()}, which fixes the learning-rate schedule's
 * position through its step), the activation-scale estimate, the rows waiting in the mixing buffer
 * with its sampling state, and the evaluation window. A trainer resumed from it ({@link
 * SaeTrainer#resume}) and fed the same rows afterwards takes bit-identical steps to the one it was
 * taken from. The arrays are owned by the state; callers must not modify them. Immutable by
 * convention and safe to hand to another thread.
 *
 * @param snapshot parameters, Adam moments (always present), step, tokens trained, scale,
 *     threshold, dead-latent counters
 * @param tokensSeen tokens offered so far (trained, held out, buffered or used to estimate the
 *     scale)
 * @param batchesDrawn batches taken from the mixing buffer (sets the evaluation hold-out cadence)
 * @param scaleObserved tokens averaged by the activation-scale estimator; 0 when not scaling
 * @param scaleSumOfNorms their summed norms; 0 when not scaling
 * @param bufferRows the mixing buffer's rows, row-major {@code [n, d_in]}
 * @param bufferRandomState the mixing buffer's sampling state
 * @param evaluationWindow the sums of the evaluation window in progress
 * @param lastEvaluation the last finished evaluation window, null before the first
 */
// The arrays are large (the whole SAE, the mixing buffer); copying them on access would defeat it.
@SuppressWarnings("ArrayRecordComponent")
public record TrainerState(
    TrainerSnapshot snapshot,
    long tokensSeen,
    long batchesDrawn,
    long scaleObserved,
    double scaleSumOfNorms,
    float[] bufferRows,
    long bufferRandomState,
    EvaluationWindow.Sums evaluationWindow,
    @Nullable EvaluationReport lastEvaluation) {

  /** Checks the parts against the snapshot's settings. */
  public TrainerState {
    Objects.requireNonNull(snapshot, "snapshot");
    Objects.requireNonNull(bufferRows, "bufferRows");
    Objects.requireNonNull(evaluationWindow, "evaluationWindow");
    TrainingSettings s = snapshot.settings();
    if (snapshot.moments().isEmpty()) {
      throw new IllegalArgumentException("a resumable state needs the Adam moments");
    }
    if (tokensSeen < 0 || batchesDrawn < 0 || scaleObserved < 0) {
      throw new IllegalArgumentException(
          "tokens_seen, batches_drawn and scale_observed must be >= 0, were "
              + tokensSeen
              + ", "
              + batchesDrawn
              + ", "
              + scaleObserved);
    }
    if (bufferRows.length % s.dIn() != 0) {
      throw new IllegalArgumentException(
          "buffer rows must be whole rows of d_in=" + s.dIn() + ", were " + bufferRows.length);
    }
    if (evaluationWindow.sumX().length != s.dIn() || evaluationWindow.fired().length != s.dSae()) {
      throw new IllegalArgumentException(
          "evaluation window must be for d_in="
              + s.dIn()
              + ", d_sae="
              + s.dSae()
              + ", was for "
              + evaluationWindow.sumX().length
              + ", "
              + evaluationWindow.fired().length);
    }
  }

  /** Tokens waiting in the mixing buffer. */
  public int bufferedTokens() {
    return bufferRows.length / snapshot.settings().dIn();
  }
}
