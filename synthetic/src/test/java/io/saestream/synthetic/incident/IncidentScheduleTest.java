package io.saestream.synthetic.incident;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IncidentScheduleTest {

  @Test
  void parsesABurstAndADrift() {
    IncidentSchedule schedule =
        IncidentSchedule.parse("burst@30s:feature=17,tokens=20; drift@60s+20s:scale=3");
    assertThat(schedule.incidents())
        .containsExactly(
            new LatentBurst(Duration.ofSeconds(30), 17, 20, LatentBurst.DEFAULT_MAGNITUDE),
            new DriftEpisode(Duration.ofSeconds(60), Duration.ofSeconds(20), 3.0));
    assertThat(schedule.bursts()).hasSize(1);
    assertThat(schedule.drifts()).hasSize(1);
  }

  @Test
  void appliesDefaultsAndIgnoresCaseAndSpaces() {
    IncidentSchedule schedule =
        IncidentSchedule.parse("  DRIFT @ 1m + 1500ms ;Burst@0.5s: Feature = 3 , magnitude=7.5 ");
    assertThat(schedule.incidents())
        .containsExactly(
            new LatentBurst(Duration.ofMillis(500), 3, LatentBurst.DEFAULT_TOKENS, 7.5),
            new DriftEpisode(
                Duration.ofMinutes(1), Duration.ofMillis(1500), DriftEpisode.DEFAULT_SCALE));
  }

  @Test
  void incidentsAreOrderedByStartTime() {
    IncidentSchedule schedule =
        IncidentSchedule.parse("burst@9s:feature=1;burst@2s:feature=2;drift@5s+1s");
    assertThat(schedule.incidents())
        .extracting(Incident::at)
        .containsExactly(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(9));
  }

  @Test
  void specRoundTrips() {
    IncidentSchedule schedule =
        IncidentSchedule.parse("burst@30s:feature=17,tokens=20;drift@1m+250ms:scale=2.5");
    assertThat(schedule.spec())
        .isEqualTo("burst@30s:feature=17,tokens=20,magnitude=10.0;drift@1m+250ms:scale=2.5");
    assertThat(IncidentSchedule.parse(schedule.spec())).isEqualTo(schedule);
  }

  @Test
  void blankIsNoIncidents() {
    assertThat(IncidentSchedule.parse("  ").isEmpty()).isTrue();
    assertThat(IncidentSchedule.parse("")).isEqualTo(IncidentSchedule.none());
    assertThat(IncidentSchedule.of(List.of())).isEqualTo(IncidentSchedule.none());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          burst@1s:feature=1;;drift@2s+1s | incident 2 of 'burst@1s:feature=1;;drift@2s+1s' is empty (a stray ';'?)
          burst:feature=1 | incident 1 'burst:feature=1': expected KIND@TIME[+DURATION][:NAME=VALUE,...], e.g. burst@30s:feature=17,tokens=20 or drift@60s+20s:scale=3
          spike@3s | incident 1 'spike@3s': unknown incident kind 'spike', expected burst or drift
          burst@soon:feature=1 | incident 1 'burst@soon:feature=1': time 'soon' is not a duration: expected a number with a unit (ms, s, m, h), e.g. 30s, 1500ms, 2.5m, or ISO-8601 such as PT1M30S
          burst@30:feature=1 | incident 1 'burst@30:feature=1': time '30' is not a duration
          burst@-3s:feature=1 | incident 1 'burst@-3s:feature=1': time '-3s' is not a duration
          burst@3s+2s:feature=1 | incident 1 'burst@3s+2s:feature=1': a burst has no duration, write burst@TIME:feature=N[,tokens=N][,magnitude=X]
          burst@3s | incident 1 'burst@3s': a burst needs feature=N, e.g. burst@30s:feature=17,tokens=20
          burst@3s: | incident 1 'burst@3s:': no parameters after ':', expected NAME=VALUE,...
          burst@3s:feature | incident 1 'burst@3s:feature': parameter 'feature' must be NAME=VALUE, e.g. feature=17
          burst@3s:feature=1,,tokens=2 | incident 1 'burst@3s:feature=1,,tokens=2': parameter '' must be NAME=VALUE, e.g. feature=17
          burst@3s:feature=1,feature=2 | incident 1 'burst@3s:feature=1,feature=2': parameter 'feature' is given twice
          burst@3s:feature=1,scale=2 | incident 1 'burst@3s:feature=1,scale=2': unknown parameter 'scale' for a burst, expected feature, magnitude, tokens
          burst@3s:feature=x | incident 1 'burst@3s:feature=x': feature must be an integer, was 'x'
          burst@3s:feature=-1 | incident 1 'burst@3s:feature=-1': burst feature must be >= 0, was -1
          burst@3s:feature=1,tokens=0 | incident 1 'burst@3s:feature=1,tokens=0': burst tokens must be > 0, was 0
          burst@3s:feature=1,magnitude=-2 | incident 1 'burst@3s:feature=1,magnitude=-2': burst magnitude must be finite and > 0, was -2.0
          burst@3s:feature=1,magnitude=big | incident 1 'burst@3s:feature=1,magnitude=big': magnitude must be a number, was 'big'
          drift@3s | incident 1 'drift@3s': a drift needs a duration, write drift@TIME+DURATION[:scale=X], e.g. drift@60s+20s:scale=3
          drift@3s+0s | incident 1 'drift@3s+0s': drift duration must be > 0, was PT0S
          drift@3s+forever | incident 1 'drift@3s+forever': duration 'forever' is not a duration
          drift@3s+1s:scale=0 | incident 1 'drift@3s+1s:scale=0': drift scale must be finite and > 0, was 0.0
          drift@3s+1s:scale=NaN | incident 1 'drift@3s+1s:scale=NaN': drift scale must be finite and > 0, was NaN
          drift@3s+1s:feature=2 | incident 1 'drift@3s+1s:feature=2': unknown parameter 'feature' for a drift, expected scale
          """)
  void badSpecsAreRejectedNamingTheIncidentAndTheProblem(String spec, String message) {
    assertThatThrownBy(() -> IncidentSchedule.parse(spec))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(message);
  }

  @Test
  void burstsMustTargetAFeatureOfTheModel() {
    IncidentSchedule schedule = IncidentSchedule.parse("burst@1s:feature=64");
    schedule.requireFeaturesBelow(65);
    assertThatThrownBy(() -> schedule.requireFeaturesBelow(64))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "incident 'burst@1s:feature=64,tokens=16,magnitude=10.0' targets feature 64, but the"
                + " model has 64 features (0..63)");
  }

  @Test
  void aDriftIsActiveFromItsStartUntilJustBeforeItsEnd() {
    DriftEpisode drift = new DriftEpisode(Duration.ofSeconds(10), Duration.ofSeconds(5), 1);
    assertThat(drift.activeAt(Duration.ofMillis(9_999))).isFalse();
    assertThat(drift.activeAt(Duration.ofSeconds(10))).isTrue();
    assertThat(drift.activeAt(Duration.ofMillis(14_999))).isTrue();
    assertThat(drift.activeAt(Duration.ofSeconds(15))).isFalse();
  }
}
