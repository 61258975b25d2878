package io.saestream.synthetic.sequence;

import io.saestream.synthetic.TokenSample;
import java.time.Instant;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;

/**
 * Consecutive tokens of one synthetic sequence, as a {@link SequenceGenerator} made them: the
 * activations (row-major {@code [nTokens, d_in]}), token texts and ids, and the ground truth behind
 * each token (active features, magnitudes, incident involvement). Arrays are handed over, not
 * copied; safe to share read-only.
 */
public final class GeneratedBatch {

  private final String sequenceId;
  private final int startPosition;
  private final int dIn;
  private final float[] data;
  private final List<String> tokens;
  private final int[] tokenIds;
  private final int[][] activeFeatures;
  private final float[][] magnitudes;
  private final float[] driftAmplitudes;
  private final BitSet burstTokens;
  private final int burstFeature;
  private final boolean lastInSequence;
  private final Instant generatedAt;

  GeneratedBatch(
      String sequenceId,
      int startPosition,
      int dIn,
      float[] data,
      List<String> tokens,
      int[] tokenIds,
      int[][] activeFeatures,
      float[][] magnitudes,
      float[] driftAmplitudes,
      BitSet burstTokens,
      int burstFeature,
      boolean lastInSequence,
      Instant generatedAt) {
    this.sequenceId = Objects.requireNonNull(sequenceId, "sequenceId");
    this.startPosition = startPosition;
    this.dIn = dIn;
    this.data = data;
    this.tokens = List.copyOf(tokens);
    this.tokenIds = tokenIds;
    this.activeFeatures = activeFeatures;
    this.magnitudes = magnitudes;
    this.driftAmplitudes = driftAmplitudes;
    this.burstTokens = burstTokens;
    this.burstFeature = burstFeature;
    this.lastInSequence = lastInSequence;
    this.generatedAt = generatedAt;
  }

  /** The sequence these tokens belong to (the record key). */
  public String sequenceId() {
    return sequenceId;
  }

  /** Position in the sequence of the first token. */
  public int startPosition() {
    return startPosition;
  }

  /** Number of tokens. */
  public int nTokens() {
    return tokenIds.length;
  }

  /** Width of a row. */
  public int dIn() {
    return dIn;
  }

  /** The activations, row-major {@code [nTokens, d_in]} (not a copy). */
  public float[] data() {
    return data;
  }

  /** The text of each token. */
  public List<String> tokens() {
    return tokens;
  }

  /** The {@link Vocabulary} id of each token (not a copy). */
  public int[] tokenIds() {
    return tokenIds;
  }

  /** Ground truth of token {@code t} of this batch: active features and their magnitudes. */
  public TokenSample sample(int t) {
    Objects.checkIndex(t, tokenIds.length);
    return new TokenSample(
        Arrays.copyOfRange(data, t * dIn, (t + 1) * dIn), activeFeatures[t], magnitudes[t]);
  }

  /**
   * Norm of the drift component added to token {@code t}; 0 outside drift episodes. The signal
   * without it is {@code x − amplitude·direction}, the direction being the episode's.
   */
  public float driftAmplitude(int t) {
    return driftAmplitudes[t];
  }

  /** Whether token {@code t} carries a scheduled latent burst. */
  public boolean isBurst(int t) {
    Objects.checkIndex(t, tokenIds.length);
    return burstTokens.get(t);
  }

  /** The feature of the burst in this batch, or −1 when no token carries one. */
  public int burstFeature() {
    return burstFeature;
  }

  /** Whether this batch ends its sequence. */
  public boolean lastInSequence() {
    return lastInSequence;
  }

  /** The generator's clock reading when the batch was made. */
  public Instant generatedAt() {
    return generatedAt;
  }

  @Override
  public String toString() {
    return "GeneratedBatch["
        + sequenceId
        + " @"
        + startPosition
        + ", "
        + tokenIds.length
        + " tokens"
        + (burstFeature >= 0 ? ", burst of feature " + burstFeature : "")
        + "]";
  }
}
