package io.saestream.synthetic.incident;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class CompactDurationTest {

  @ParameterizedTest
  @CsvSource({
    "1500ms, PT1.5S",
    "30s, PT30S",
    "2.5s, PT2.5S",
    "0s, PT0S",
    "2m, PT2M",
    "1.5h, PT1H30M",
    "PT1M30S, PT1M30S",
    "10S, PT10S"
  })
  void parsesCompactAndIsoDurations(String text, String iso) {
    assertThat(CompactDuration.parse(text)).isEqualTo(Duration.parse(iso));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "30", "s", "-3s", "3 s", "3d", "1e3ms", "PT-1S", "PTxS"})
  void rejectsAnythingElseNamingTheText(String text) {
    assertThatThrownBy(() -> CompactDuration.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("'" + text + "' is not a duration");
  }

  @Test
  void rejectsDurationsBeyondWhatJavaHolds() {
    assertThatThrownBy(() -> CompactDuration.parse("9999999999h"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("duration '9999999999h' is too long");
  }

  @ParameterizedTest
  @CsvSource({
    "PT2H, 2h",
    "PT3M, 3m",
    "PT30S, 30s",
    "PT0.25S, 250ms",
    "PT0S, 0s",
    "PT0.0000015S, 0.0000015s"
  })
  void formatsTheShortestFormThatParsesBack(String iso, String text) {
    Duration d = Duration.parse(iso);
    assertThat(CompactDuration.format(d)).isEqualTo(text);
    assertThat(CompactDuration.parse(text)).isEqualTo(d);
  }
}
