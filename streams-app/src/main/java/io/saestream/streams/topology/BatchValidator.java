package io.saestream.streams.topology;

import io.saestream.schema.v1.ActivationBatch;
import io.saestream.streams.errors.DeadLetter;
import io.saestream.streams.errors.DeadLetterReason;
import io.saestream.streams.inference.ActivationBuffer;
import io.saestream.streams.registry.DeployedSae;
import io.saestream.streams.registry.SaeRoute;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The domain checks an ActivationBatch must pass before inference, each returning the dead letter
 * it fails with or null. Ordered cheap to expensive; the finiteness check happens while the data is
 * converted ({@link ActivationBuffer#load}). Stateless and thread-safe.
 */
final class BatchValidator {

  private final int maxTokensPerRecord;

  BatchValidator(int maxTokensPerRecord) {
    if (maxTokensPerRecord <= 0) {
      throw new IllegalArgumentException(
          "maxTokensPerRecord must be > 0, was " + maxTokensPerRecord);
    }
    this.maxTokensPerRecord = maxTokensPerRecord;
  }

  /** Token count and per-token metadata, which need no SAE. */
  @Nullable DeadLetter checkRecord(ActivationBatch batch) {
    int n = batch.getNTokens();
    if (n <= 0 || n > maxTokensPerRecord) {
      return DeadLetter.of(
          DeadLetterReason.N_TOKENS_OUT_OF_RANGE,
          "n_tokens must be in [1, "
              + maxTokensPerRecord
              + "] (streams.max-tokens-per-record), was "
              + n);
    }
    if (batch.getStartPosition() < 0) {
      return DeadLetter.of(
          DeadLetterReason.INVALID_METADATA,
          "start_position must be >= 0, was " + batch.getStartPosition());
    }
    List<Integer> tokenIds = batch.getTokenIds();
    if (tokenIds != null && tokenIds.size() != n) {
      return DeadLetter.of(
          DeadLetterReason.INVALID_METADATA,
          "token_ids must have n_tokens=" + n + " entries, has " + tokenIds.size());
    }
    List<String> tokens = batch.getTokens();
    if (tokens != null && tokens.size() != n) {
      return DeadLetter.of(
          DeadLetterReason.INVALID_METADATA,
          "tokens must have n_tokens=" + n + " entries, has " + tokens.size());
    }
    return null;
  }

  /** Width against every routed SAE, then the data length that width implies. */
  @Nullable DeadLetter checkAgainst(ActivationBatch batch, SaeRoute route) {
    for (DeployedSae sae : route.saes()) {
      if (batch.getDIn() != sae.dIn()) {
        return DeadLetter.forSae(
            DeadLetterReason.D_IN_MISMATCH,
            "d_in is "
                + batch.getDIn()
                + " but SAE "
                + sae.saeId()
                + " on "
                + route.hook()
                + " takes d_in="
                + sae.dIn(),
            sae.saeId());
      }
    }
    int bytesPerElement = ActivationBuffer.bytesPerElement(batch.getDtype());
    long expected = (long) batch.getNTokens() * batch.getDIn() * bytesPerElement;
    long actual = batch.getData().remaining();
    if (actual != expected) {
      return DeadLetter.of(
          DeadLetterReason.DATA_LENGTH_MISMATCH,
          "data must be n_tokens × d_in × "
              + bytesPerElement
              + " ("
              + batch.getDtype()
              + ") = "
              + batch.getNTokens()
              + " × "
              + batch.getDIn()
              + " × "
              + bytesPerElement
              + " = "
              + expected
              + " bytes, was "
              + actual);
    }
    if (expected / bytesPerElement > ActivationBuffer.MAX_ELEMENTS) {
      return DeadLetter.of(
          DeadLetterReason.N_TOKENS_OUT_OF_RANGE,
          "n_tokens × d_in = "
              + expected / bytesPerElement
              + " exceeds "
              + ActivationBuffer.MAX_ELEMENTS
              + " values; send fewer tokens per record");
    }
    return null;
  }

  /** The dead letter for a non-finite value at flat index {@code index}. */
  static DeadLetter nonFinite(ActivationBatch batch, int index, float value) {
    int dIn = batch.getDIn();
    return DeadLetter.of(
        DeadLetterReason.NON_FINITE_VALUES,
        "data[token "
            + index / dIn
            + ", dim "
            + index % dIn
            + "] is "
            + value
            + "; every activation must be finite");
  }
}
