package io.saestream.launcher.demo;

import io.saestream.synthetic.GroundTruthModel;
import io.saestream.synthetic.incident.DriftEpisode;
import io.saestream.synthetic.incident.IncidentSchedule;
import io.saestream.synthetic.incident.LatentBurst;
import io.saestream.synthetic.sequence.GeneratedBatch;
import io.saestream.synthetic.sequence.SequenceConfig;
import io.saestream.synthetic.sequence.SequenceGenerator;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * What the demo's alert rules are calibrated on: batches of normal traffic from the live producer's
 * model and sequence settings, the same batches with the live burst or the live drift episode
 * applied as {@link LatentBurst} and {@link DriftEpisode} define them (the burst feature at the
 * burst magnitude in the first {@code tokens} tokens; the episode's direction at {@code
 * scale·√E‖signal‖²·U[0.5, 1.5]} in every token).
 *
 * @param dIn activation width
 * @param normal normal batches, in generation order
 * @param bursts batches whose rows all carry the burst, {@code burst.tokens()} rows each
 * @param drifted batches during the drift episode
 * @param burst the live burst (feature, tokens, magnitude)
 */
record CalibrationTraffic(
    int dIn, List<Batch> normal, List<Batch> bursts, List<Batch> drifted, LatentBurst burst) {

  /** One batch: {@code tokens} rows of {@code data} ({@code [tokens, d_in]}) from one sequence. */
  // Generated once and read-only afterwards, never compared: the rows are shared, not copied.
  @SuppressWarnings("ArrayRecordComponent")
  record Batch(String sequenceId, float[] data, int tokens) {}

  /** Validates the sizes and copies the lists. */
  CalibrationTraffic {
    normal = List.copyOf(normal);
    bursts = List.copyOf(bursts);
    drifted = List.copyOf(drifted);
    if (normal.isEmpty() || bursts.isEmpty() || drifted.isEmpty()) {
      throw new IllegalArgumentException(
          "calibration needs normal, burst and drifted batches, had "
              + normal.size()
              + ", "
              + bursts.size()
              + " and "
              + drifted.size());
    }
  }

  /**
   * Generates {@code batches} normal batches and derives {@code bursts} burst batches and {@code
   * drifts} drifted batches from the first of them.
   *
   * @param liveSeed the live generator's seed (the drift direction derives from it)
   * @throws IllegalArgumentException when fewer than {@code bursts} batches are long enough to
   *     carry a burst, or a count is not positive
   */
  static CalibrationTraffic generate(
      GroundTruthModel model,
      SequenceConfig sequences,
      LatentBurst burst,
      DriftEpisode drift,
      long liveSeed,
      int batches,
      int bursts,
      int drifts) {
    if (batches <= 0 || bursts <= 0 || drifts <= 0 || drifts > batches) {
      throw new IllegalArgumentException(
          "batches, bursts and drifts must be > 0 and drifts <= batches, were "
              + batches
              + ", "
              + bursts
              + " and "
              + drifts);
    }
    Clock frozen = Clock.fixed(Instant.EPOCH, ZoneOffset.UTC);
    // The live schedule's drift direction: it depends on the seed and the episode's index only.
    float[] direction =
        new SequenceGenerator(
                model, sequences, IncidentSchedule.of(List.of(burst, drift)), frozen, liveSeed)
            .driftDirection(0);
    SequenceGenerator generator =
        new SequenceGenerator(
            model,
            sequences.withSequenceIdPrefix("calibration-"),
            IncidentSchedule.none(),
            frozen,
            liveSeed + 1);
    int dIn = model.dIn();
    float[] featureDirection = model.direction(burst.feature());
    double signalRms = Math.sqrt(model.expectedSignalPower());
    SplittableRandom amplitudes = new SplittableRandom(liveSeed + 2);
    List<Batch> normal = new ArrayList<>();
    List<Batch> burstBatches = new ArrayList<>();
    List<Batch> driftBatches = new ArrayList<>();
    for (int i = 0; i < batches; i++) {
      GeneratedBatch b = generator.next();
      normal.add(new Batch(b.sequenceId(), b.data(), b.nTokens()));
      if (burstBatches.size() < bursts && b.nTokens() >= burst.tokens()) {
        float[] rows = new float[burst.tokens() * dIn];
        for (int t = 0; t < burst.tokens(); t++) {
          // The burst sets the feature's magnitude; a token where it fired already gets the rest.
          float add = (float) burst.magnitude() - b.sample(t).magnitudeOf(burst.feature());
          for (int j = 0; j < dIn; j++) {
            rows[t * dIn + j] = b.data()[t * dIn + j] + add * featureDirection[j];
          }
        }
        burstBatches.add(new Batch(b.sequenceId(), rows, burst.tokens()));
      }
      if (driftBatches.size() < drifts) {
        float[] rows = b.data().clone();
        for (int t = 0; t < b.nTokens(); t++) {
          float amplitude = (float) (drift.scale() * signalRms * (0.5 + amplitudes.nextDouble()));
          for (int j = 0; j < dIn; j++) {
            rows[t * dIn + j] += amplitude * direction[j];
          }
        }
        driftBatches.add(new Batch(b.sequenceId(), rows, b.nTokens()));
      }
    }
    if (burstBatches.size() < bursts) {
      throw new IllegalArgumentException(
          "only "
              + burstBatches.size()
              + " of "
              + batches
              + " batches hold the "
              + burst.tokens()
              + " tokens of a burst, "
              + bursts
              + " needed");
    }
    return new CalibrationTraffic(dIn, normal, burstBatches, driftBatches, burst);
  }
}
