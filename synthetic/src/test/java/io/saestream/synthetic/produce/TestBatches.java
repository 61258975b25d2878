package io.saestream.synthetic.produce;

import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.Dtype;
import io.saestream.synthetic.GroundTruthConfig;
import io.saestream.synthetic.GroundTruthModel;
import io.saestream.synthetic.ManualClock;
import io.saestream.synthetic.incident.IncidentSchedule;
import io.saestream.synthetic.sequence.SequenceConfig;
import io.saestream.synthetic.sequence.SequenceGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Small generated sources for producer tests. */
final class TestBatches {

  static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");
  static final ActivationBatchTemplate TEMPLATE =
      new ActivationBatchTemplate(
          "toy-llm", "blocks.0.hook_resid_pre", Dtype.F32, Map.of("tenant", "t1"));

  private TestBatches() {}

  /** Endless batches of 16 tokens × d_in 8, 10 ms apart. */
  static BatchSource generated(long seed) {
    GroundTruthModel model = new GroundTruthModel(GroundTruthConfig.defaults(8, 32, seed));
    SequenceGenerator generator =
        new SequenceGenerator(
            model,
            SequenceConfig.defaults().withTokensPerRecord(16).withLengths(64, 64, 64),
            IncidentSchedule.none(),
            new ManualClock(T0, Duration.ofMillis(10)),
            seed);
    return new GeneratedBatchSource(generator, TEMPLATE);
  }

  /** A source that runs {@code action} before handing out record number {@code at} (0-based). */
  static BatchSource withHook(BatchSource source, int at, Runnable action) {
    return new BatchSource() {
      private int handed;

      @Override
      public @Nullable ActivationBatch next() {
        if (handed++ == at) {
          action.run();
        }
        return source.next();
      }
    };
  }
}
