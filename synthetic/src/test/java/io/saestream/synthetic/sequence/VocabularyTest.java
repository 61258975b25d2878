package io.saestream.synthetic.sequence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class VocabularyTest {

  @Test
  void everyTokenTextIsUniqueAndStartsWithASpaceOrIsPunctuation() {
    Vocabulary vocabulary = new Vocabulary(2000, 3);
    Set<String> seen = new HashSet<>();
    for (int id = 0; id < vocabulary.size(); id++) {
      String text = vocabulary.text(id);
      assertThat(seen.add(text)).as("token %d '%s' is unique", id, text).isTrue();
      assertThat(text).matches(" [a-z]+|[,.]");
    }
    assertThat(vocabulary.size()).isEqualTo(vocabulary.fillerCount() + 6000);
  }

  @Test
  void triggerWordsMapBackToTheirFeature() {
    Vocabulary vocabulary = new Vocabulary(100, 4);
    for (int f = 0; f < 100; f++) {
      for (int w = 0; w < 4; w++) {
        assertThat(vocabulary.featureOf(vocabulary.triggerWordId(f, w))).isEqualTo(f);
      }
      assertThat(vocabulary.triggerWords(f)).hasSize(4).doesNotHaveDuplicates();
    }
    assertThat(vocabulary.featureOf(0)).isEqualTo(-1);
    assertThat(vocabulary.text(0)).isEqualTo(" the");
  }

  @Test
  void rejectsBadArguments() {
    assertThatThrownBy(() -> new Vocabulary(0, 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("features must be > 0, was 0");
    assertThatThrownBy(() -> new Vocabulary(3, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("words per feature must be > 0, was 0");
    Vocabulary vocabulary = new Vocabulary(3, 2);
    assertThatThrownBy(() -> vocabulary.triggerWordId(3, 0))
        .isInstanceOf(IndexOutOfBoundsException.class)
        .hasMessage("feature must be in [0, 3), was 3");
    assertThatThrownBy(() -> vocabulary.triggerWordId(0, 2))
        .isInstanceOf(IndexOutOfBoundsException.class)
        .hasMessage("word must be in [0, 2), was 2");
    assertThatThrownBy(() -> vocabulary.text(vocabulary.size()))
        .isInstanceOf(IndexOutOfBoundsException.class)
        .hasMessage("token id must be in [0, 26), was 26");
  }
}
