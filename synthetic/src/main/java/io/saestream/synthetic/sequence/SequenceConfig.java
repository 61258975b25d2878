package io.saestream.synthetic.sequence;

import java.util.Objects;

/**
 * How a {@link SequenceGenerator} shapes its output into sequences and records. Immutable and
 * validated on construction.
 *
 * @param tokensPerRecord tokens per emitted batch (the last batch of a sequence may be shorter)
 * @param minLength shortest sequence
 * @param meanLength mean sequence length: lengths are {@code minLength + Geometric}, with that
 *     mean, truncated at {@code maxLength}; all three equal gives fixed-length sequences
 * @param maxLength longest sequence (a burst may lengthen a sequence to fit)
 * @param concurrentSequences sequences in progress at once; each batch continues one of them,
 *     picked at random, so batches of different sequences interleave as in a serving fleet
 * @param topicsPerSequence features drawn per sequence that fire more often within it, so that
 *     tokens of a sequence are correlated
 * @param topicFiringProbability probability that a topic feature fires in a token of its sequence,
 *     on top of its base probability
 * @param triggerWordsPerFeature trigger words per feature in the {@link Vocabulary}
 * @param sequenceIdPrefix prefix of sequence ids, which continue with the sequence's ordinal
 */
public record SequenceConfig(
    int tokensPerRecord,
    int minLength,
    double meanLength,
    int maxLength,
    int concurrentSequences,
    int topicsPerSequence,
    double topicFiringProbability,
    int triggerWordsPerFeature,
    String sequenceIdPrefix) {

  /** Upper bound of {@link #tokensPerRecord()}. */
  public static final int MAX_TOKENS_PER_RECORD = 65_536;

  /** Validates every field. */
  public SequenceConfig {
    Objects.requireNonNull(sequenceIdPrefix, "sequenceIdPrefix");
    if (tokensPerRecord <= 0 || tokensPerRecord > MAX_TOKENS_PER_RECORD) {
      throw new IllegalArgumentException(
          "tokens per record must be in [1, "
              + MAX_TOKENS_PER_RECORD
              + "], was "
              + tokensPerRecord);
    }
    if (minLength <= 0) {
      throw new IllegalArgumentException("min sequence length must be > 0, was " + minLength);
    }
    if (!(meanLength >= minLength && meanLength <= maxLength)) {
      throw new IllegalArgumentException(
          "mean sequence length must be in [min, max] = ["
              + minLength
              + ", "
              + maxLength
              + "], was "
              + meanLength);
    }
    if (concurrentSequences <= 0) {
      throw new IllegalArgumentException(
          "concurrent sequences must be > 0, was " + concurrentSequences);
    }
    if (topicsPerSequence < 0) {
      throw new IllegalArgumentException(
          "topics per sequence must be >= 0, was " + topicsPerSequence);
    }
    if (!(topicFiringProbability >= 0 && topicFiringProbability <= 1)) {
      throw new IllegalArgumentException(
          "topic firing probability must be in [0, 1], was " + topicFiringProbability);
    }
    if (triggerWordsPerFeature <= 0) {
      throw new IllegalArgumentException(
          "trigger words per feature must be > 0, was " + triggerWordsPerFeature);
    }
  }

  /**
   * Defaults: 64 tokens per record; lengths 16..1024, mean 256; 8 concurrent sequences; 4 topic
   * features per sequence firing in 25 % of its tokens; 3 trigger words per feature; ids {@code
   * seq-N}.
   */
  public static SequenceConfig defaults() {
    return new SequenceConfig(64, 16, 256, 1024, 8, 4, 0.25, 3, "seq-");
  }

  /** A copy with another record size. */
  public SequenceConfig withTokensPerRecord(int tokens) {
    return new SequenceConfig(
        tokens,
        minLength,
        meanLength,
        maxLength,
        concurrentSequences,
        topicsPerSequence,
        topicFiringProbability,
        triggerWordsPerFeature,
        sequenceIdPrefix);
  }

  /** A copy with another length distribution. */
  public SequenceConfig withLengths(int min, double mean, int max) {
    return new SequenceConfig(
        tokensPerRecord,
        min,
        mean,
        max,
        concurrentSequences,
        topicsPerSequence,
        topicFiringProbability,
        triggerWordsPerFeature,
        sequenceIdPrefix);
  }

  /** A copy with another number of sequences in progress at once. */
  public SequenceConfig withConcurrentSequences(int sequences) {
    return new SequenceConfig(
        tokensPerRecord,
        minLength,
        meanLength,
        maxLength,
        sequences,
        topicsPerSequence,
        topicFiringProbability,
        triggerWordsPerFeature,
        sequenceIdPrefix);
  }

  /** A copy with other per-sequence topics. */
  public SequenceConfig withTopics(int topics, double firingProbability) {
    return new SequenceConfig(
        tokensPerRecord,
        minLength,
        meanLength,
        maxLength,
        concurrentSequences,
        topics,
        firingProbability,
        triggerWordsPerFeature,
        sequenceIdPrefix);
  }

  /** A copy with another sequence id prefix. */
  public SequenceConfig withSequenceIdPrefix(String prefix) {
    return new SequenceConfig(
        tokensPerRecord,
        minLength,
        meanLength,
        maxLength,
        concurrentSequences,
        topicsPerSequence,
        topicFiringProbability,
        triggerWordsPerFeature,
        prefix);
  }
}
