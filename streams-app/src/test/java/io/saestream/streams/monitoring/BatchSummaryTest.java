package io.saestream.streams.monitoring;

import static io.saestream.streams.monitoring.MonitorHarness.SAE;
import static io.saestream.streams.monitoring.MonitorHarness.T0;
import static io.saestream.streams.monitoring.MonitorHarness.batch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.saestream.streams.config.MonitoringSettings;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

/** What the per-sequence monitor sends for one batch, and its wire form. */
class BatchSummaryTest {

  private final MonitoringSettings settings = MonitoringSettings.defaults().withEnabled(true);

  private BatchSummary summarize(BatchSummarizer s, AnalyzedBatch b, Set<Integer> watched) {
    return s.summarize(new BatchView(b, T0, settings), watched);
  }

  @Test
  void carriesPerLatentCountsSumsMaximaHistogramAndReconstructionSums() {
    BatchSummary s =
        summarize(
            new BatchSummarizer(5),
            batch("s1", List.of("x", "y"), 0.25f, 0.5f, Map.of(1, 2f, 2, 0.5f), Map.of(1, 3f)),
            Set.of());
    assertThat(s.saeId).isEqualTo(SAE);
    assertThat(s.sequenceId).isEqualTo("s1");
    assertThat(s.sourcePartition).isZero();
    assertThat(s.nTokens).isEqualTo(2);
    assertThat(s.fvu).isCloseTo(0.25, within(1e-9));
    assertThat(s.relativeErrorSum).isCloseTo(1.0, within(1e-9));
    assertThat(s.relativeErrorCount).isEqualTo(2);
    assertThat(s.l0Sum).isEqualTo(3);
    int one = s.indexOf(1);
    assertThat(s.cell(one).firings()).isEqualTo(2);
    assertThat(s.cell(one).sum()).isCloseTo(5.0, within(1e-9));
    assertThat(s.cell(one).max()).isCloseTo(3.0, within(1e-9));
    assertThat(s.cell(one).histogram().count(ActivationHistogram.bin(2))).isEqualTo(1);
    assertThat(s.cell(one).histogram().count(ActivationHistogram.bin(3))).isEqualTo(1);
    assertThat(s.cell(s.indexOf(2)).histogram().total()).isEqualTo(1);
    assertThat(s.indexOf(9)).isEqualTo(-1);
    ContextEntry c = java.util.Objects.requireNonNull(s.context(1));
    assertThat(c.position()).as("the strongest token").isEqualTo(101);
    assertThat(c.tokens()).containsExactly("x", "y");
    assertThat(c.focusIndex()).isEqualTo(1);
  }

  @Test
  void sendsAContextOnlyWhileItCanStillEnterTheTopListUnlessARateRuleWatchesTheLatent() {
    BatchSummarizer summarizer = new BatchSummarizer(1);
    assertThat(summarize(summarizer, batch("a", null, Map.of(1, 3f, 2, 3f)), Set.of()).contexts)
        .hasSize(2);
    BatchSummary weaker = summarize(summarizer, batch("b", null, Map.of(1, 2f, 2, 2f)), Set.of(2));
    assertThat(weaker.contexts)
        .extracting(BatchSummary.LatentContext::latent)
        .as("latent 1 cannot beat 3.0; latent 2 is watched by a rate rule")
        .containsExactly(2);
    assertThat(summarize(summarizer, batch("c", null, Map.of(1, 4f)), Set.of()).contexts)
        .extracting(BatchSummary.LatentContext::latent)
        .containsExactly(1);
    summarizer.reset();
    assertThat(summarize(summarizer, batch("d", null, Map.of(1, 1f)), Set.of()).contexts)
        .hasSize(1);
  }

  @Test
  void roundTripsThroughItsSerdeAndRefusesCorruptBytes() {
    BatchSummary s =
        summarize(
            new BatchSummarizer(5),
            batch("s1", List.of("é", "ü"), 0.25f, 0.5f, Map.of(1, 2f, 7, 300f), Map.of(1, 3f)),
            Set.of());
    Serde<BatchSummary> serde = BatchSummary.serde();
    byte[] bytes = serde.serializer().serialize("t", s);
    BatchSummary back = serde.deserializer().deserialize("t", bytes);
    assertThat(back.saeId).isEqualTo(s.saeId);
    assertThat(back.saeVersion).isEqualTo(7);
    assertThat(back.sourcePartition).isEqualTo(s.sourcePartition);
    assertThat(back.nTokens).isEqualTo(2);
    assertThat(back.latents).containsExactly(s.latents);
    assertThat(back.firings).containsExactly(s.firings);
    for (int i = 0; i < s.size(); i++) {
      assertThat(back.cell(i)).isEqualTo(s.cell(i));
    }
    assertThat(back.contexts).isEqualTo(s.contexts);
    assertThat(back.context(1)).isNotNull();
    assertThat(java.util.Objects.requireNonNull(back.context(1)).tokens())
        .containsExactly("é", "ü");
    assertThat(serde.serializer().serialize("t", back)).as("written again as read").isSameAs(bytes);
    assertThat(back.fvu).isEqualTo(s.fvu);

    byte[] wrongFormat = bytes.clone();
    wrongFormat[0] = 9;
    assertThatThrownBy(() -> serde.deserializer().deserialize("t", wrongFormat))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("format must be 2, was 9");
    byte[] truncated = java.util.Arrays.copyOf(bytes, bytes.length / 2);
    assertThatThrownBy(() -> serde.deserializer().deserialize("t", truncated))
        .isInstanceOf(SerializationException.class);
    byte[] longer = java.util.Arrays.copyOf(bytes, bytes.length + 1);
    assertThatThrownBy(() -> serde.deserializer().deserialize("t", longer))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("left over");
    // Any corrupted byte either still decodes or is refused as a SerializationException; never
    // an index error, an out-of-memory or a summary that breaks its own invariants.
    java.util.Random random = new java.util.Random(7);
    for (int i = 1; i < bytes.length; i++) {
      byte[] corrupt = bytes.clone();
      corrupt[i] = (byte) random.nextInt(256);
      try {
        BatchSummary decoded = serde.deserializer().deserialize("t", corrupt);
        assertThat(decoded.size()).isLessThanOrEqualTo(corrupt.length);
      } catch (SerializationException expected) {
        assertThat(expected).hasMessageStartingWith("cannot read a batch summary");
      }
    }
  }

  @Test
  void refusesLatentArraysThatAreNotParallelOrNotAscending() {
    BatchSummary.Header h = new BatchSummary.Header(SAE, 1, "m", "h", 4, "s", 0, 1, 0, T0);
    BatchSummary.Reconstruction r = new BatchSummary.Reconstruction(0, 0, 0, 0);
    assertThatThrownBy(
            () ->
                new BatchSummary(
                    h,
                    r,
                    new BatchSummary.Latents(
                        new int[] {1},
                        new int[0],
                        new double[1],
                        new float[1],
                        new int[] {0, 0},
                        new byte[0],
                        new int[0]),
                    BatchSummary.Candidates.none()))
        .hasMessageStartingWith("latent arrays must be parallel: 1 latents, 0 firings");
    assertThatThrownBy(
            () ->
                new BatchSummary(
                    h,
                    r,
                    new BatchSummary.Latents(
                        new int[] {2, 1},
                        new int[2],
                        new double[2],
                        new float[2],
                        new int[3],
                        new byte[0],
                        new int[0]),
                    BatchSummary.Candidates.none()))
        .hasMessage("latents must be ascending and >= 0, found 1 at 1");
  }

  @Test
  void refusesCandidatesOutsideTheBatch() {
    assertThatThrownBy(
            () ->
                new BatchSummary(
                    new BatchSummary.Header(SAE, 1, "m", "h", 4, "s", 0, 2, 0, T0),
                    new BatchSummary.Reconstruction(0, 0, 0, 0),
                    new BatchSummary.Latents(
                        new int[0],
                        new int[0],
                        new double[0],
                        new float[0],
                        new int[1],
                        new byte[0],
                        new int[0]),
                    new BatchSummary.Candidates(
                        null, 5, new int[] {3}, new int[] {2}, new float[] {1f})))
        .hasMessage("candidate token index out of range [0, 2): 2");
  }
}
