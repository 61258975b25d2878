package io.saestream.synthetic.sequence;

import java.util.ArrayList;
import java.util.List;

/**
 * The synthetic token vocabulary: a few common filler words, then {@code wordsPerFeature} made-up
 * "trigger words" per ground-truth feature, so that the text of a token shows which feature
 * dominated it and alert context reads sensibly ("… the mibo kavu …" around a burst of the feature
 * whose words are mibo and kavu). Token ids: fillers first, then feature f's word w at {@code
 * fillerCount() + f·wordsPerFeature + w}. Words are unique consonant-vowel syllable strings with a
 * leading space, like BPE tokens. Immutable and thread-safe.
 */
public final class Vocabulary {

  private static final List<String> FILLERS =
      List.of(
          " the", " of", " and", " to", " in", " is", " that", " it", " for", " on", " with", " as",
          " at", " by", " this", " from", " an", " or", ",", ".");
  private static final String CONSONANTS = "bdfgklmnprstvz";
  private static final String VOWELS = "aeiou";
  private static final int SYLLABLES = CONSONANTS.length() * VOWELS.length();

  private final int features;
  private final int wordsPerFeature;

  /** A vocabulary for {@code features} features with {@code wordsPerFeature} words each. */
  public Vocabulary(int features, int wordsPerFeature) {
    if (features <= 0) {
      throw new IllegalArgumentException("features must be > 0, was " + features);
    }
    if (wordsPerFeature <= 0) {
      throw new IllegalArgumentException("words per feature must be > 0, was " + wordsPerFeature);
    }
    if ((long) features * wordsPerFeature + FILLERS.size() > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "features × words per feature is too large: " + features + " × " + wordsPerFeature);
    }
    this.features = features;
    this.wordsPerFeature = wordsPerFeature;
  }

  /** Number of token ids. */
  public int size() {
    return FILLERS.size() + features * wordsPerFeature;
  }

  /** Number of filler words (ids 0 to fillerCount − 1). */
  public int fillerCount() {
    return FILLERS.size();
  }

  /** Trigger words per feature. */
  public int wordsPerFeature() {
    return wordsPerFeature;
  }

  /** Token id of word {@code word} of {@code feature}. */
  public int triggerWordId(int feature, int word) {
    if (feature < 0 || feature >= features) {
      throw new IndexOutOfBoundsException(
          "feature must be in [0, " + features + "), was " + feature);
    }
    if (word < 0 || word >= wordsPerFeature) {
      throw new IndexOutOfBoundsException(
          "word must be in [0, " + wordsPerFeature + "), was " + word);
    }
    return FILLERS.size() + feature * wordsPerFeature + word;
  }

  /** The feature whose trigger word {@code tokenId} is, or −1 for a filler. */
  public int featureOf(int tokenId) {
    checkId(tokenId);
    return tokenId < FILLERS.size() ? -1 : (tokenId - FILLERS.size()) / wordsPerFeature;
  }

  /** The text of {@code tokenId}. */
  public String text(int tokenId) {
    checkId(tokenId);
    if (tokenId < FILLERS.size()) {
      return FILLERS.get(tokenId);
    }
    // Base-SYLLABLES digits, at least two: unique, and never a filler.
    int n = tokenId - FILLERS.size();
    StringBuilder reversed = new StringBuilder();
    int digits = 0;
    do {
      int syllable = n % SYLLABLES;
      reversed.append(VOWELS.charAt(syllable % VOWELS.length()));
      reversed.append(CONSONANTS.charAt(syllable / VOWELS.length()));
      n /= SYLLABLES;
      digits++;
    } while (n > 0 || digits < 2);
    return " " + reversed.reverse();
  }

  /** The texts of {@code feature}'s trigger words. */
  public List<String> triggerWords(int feature) {
    List<String> words = new ArrayList<>(wordsPerFeature);
    for (int w = 0; w < wordsPerFeature; w++) {
      words.add(text(triggerWordId(feature, w)));
    }
    return List.copyOf(words);
  }

  private void checkId(int tokenId) {
    if (tokenId < 0 || tokenId >= size()) {
      throw new IndexOutOfBoundsException(
          "token id must be in [0, " + size() + "), was " + tokenId);
    }
  }

  @Override
  public String toString() {
    return "Vocabulary[" + size() + " tokens, " + wordsPerFeature + " words per feature]";
  }
}
