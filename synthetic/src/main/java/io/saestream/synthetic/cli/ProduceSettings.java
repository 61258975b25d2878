package io.saestream.synthetic.cli;

import io.saestream.synthetic.GroundTruthConfig;
import io.saestream.synthetic.incident.IncidentSchedule;
import io.saestream.synthetic.produce.ActivationBatchTemplate;
import io.saestream.synthetic.produce.ProduceLimits;
import io.saestream.synthetic.produce.ProducerSettings;
import io.saestream.synthetic.sequence.SequenceConfig;
import java.nio.file.Path;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Everything the produce command resolved from its options, environment and config file.
 *
 * @param producer where and how to write
 * @param limits when to stop and how fast to go
 * @param template what every record shares
 * @param source where the records come from
 */
record ProduceSettings(
    ProducerSettings producer,
    ProduceLimits limits,
    ActivationBatchTemplate template,
    Source source) {

  ProduceSettings {
    Objects.requireNonNull(producer, "producer");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(template, "template");
    Objects.requireNonNull(source, "source");
  }

  /** Where records come from. */
  sealed interface Source permits Synthetic, Replay {}

  /**
   * Records from the ground-truth generator.
   *
   * @param model the ground-truth model
   * @param sequences sequence and record shape
   * @param incidents staged incidents
   */
  record Synthetic(GroundTruthConfig model, SequenceConfig sequences, IncidentSchedule incidents)
      implements Source {}

  /**
   * Records replayed from a {@code .npy} file.
   *
   * @param file the file
   * @param expectedDIn the d_in the user asked for, checked against the file; null if not given
   * @param tokensPerRecord rows per record
   * @param sequenceLength rows per sequence
   * @param sequenceIdPrefix prefix of the sequence ids
   */
  record Replay(
      Path file,
      @Nullable Integer expectedDIn,
      int tokensPerRecord,
      int sequenceLength,
      String sequenceIdPrefix)
      implements Source {}
}
