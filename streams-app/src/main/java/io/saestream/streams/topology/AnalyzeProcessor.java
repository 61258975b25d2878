package io.saestream.streams.topology;

import io.saestream.schema.v1.ActivationBatch;
import io.saestream.streams.errors.DeadLetterHeaders;
import io.saestream.streams.monitoring.AnalyzedBatch;
import io.saestream.streams.monitoring.MonitoringTopology;
import io.saestream.streams.registry.DeployedSae;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.jspecify.annotations.Nullable;

/**
 * Runs every SAE of a validated batch's route and forwards, per SAE, a FeatureBatch to {@link
 * SaeTopology#FEATURES_SINK} and a ReconstructionStats to {@link SaeTopology#RECONSTRUCTION_SINK},
 * keyed by sequence_id, and, when monitored, an {@link AnalyzedBatch} to {@link
 * MonitoringTopology#MONITOR}. Inference failures are infrastructure and propagate.
 *
 * <p>Records per SAE the latency of its inference in a custom sensor (group {@value
 * #METRICS_GROUP}, metrics {@code inference-latency-avg/max}, {@code inference-rate/total}, tag
 * {@code sae-inference-id=<sae id>}).
 *
 * <p>One instance per task, used by its stream thread only.
 */
final class AnalyzeProcessor implements Processor<byte[], Validated.Accepted, String, Object> {

  /** Scope of the per-SAE inference sensors. */
  static final String METRICS_SCOPE = "sae-inference";

  /** Group of the per-SAE inference sensors. */
  static final String METRICS_GROUP = "stream-" + METRICS_SCOPE + "-metrics";

  private final Clock clock;
  private final boolean monitored;
  private final Map<String, Sensor> latencySensors = new HashMap<>();
  private @Nullable ProcessorContext<String, Object> context;

  AnalyzeProcessor(Clock clock, boolean monitored) {
    this.clock = clock;
    this.monitored = monitored;
  }

  @Override
  public void init(ProcessorContext<String, Object> context) {
    this.context = context;
  }

  @Override
  public void process(Record<byte[], Validated.Accepted> record) {
    ProcessorContext<String, Object> c = context;
    if (c == null) {
      throw new IllegalStateException("process() before init()");
    }
    RecordMetadata source =
        c.recordMetadata()
            .orElseThrow(() -> new IllegalStateException("batch without a source record"));
    Validated.Accepted accepted = record.value();
    ActivationBatch batch = accepted.batch();
    int n = batch.getNTokens();
    double totalSquaredDeviation =
        ReconstructionMath.totalSquaredDeviation(accepted.activations(), n, batch.getDIn());
    Headers headers = DeadLetterHeaders.without(record.headers());
    for (DeployedSae sae : accepted.route().saes()) {
      long start = System.nanoTime();
      SaeOutputs outputs =
          sae.session()
              .analyze(
                  accepted.activations(),
                  n,
                  analysis ->
                      SaeOutputs.assemble(
                          analysis, batch, sae, source, totalSquaredDeviation, clock.instant()));
      latencySensor(c, sae.saeId()).record((System.nanoTime() - start) / 1e6);
      String key = batch.getSequenceId();
      c.forward(
          new Record<String, Object>(key, outputs.features(), record.timestamp(), headers),
          SaeTopology.FEATURES_SINK);
      c.forward(
          new Record<String, Object>(key, outputs.stats(), record.timestamp(), headers),
          SaeTopology.RECONSTRUCTION_SINK);
      if (monitored) {
        c.forward(
            new Record<String, Object>(
                key,
                new AnalyzedBatch(outputs.features(), outputs.stats(), batch.getTokens()),
                record.timestamp(),
                headers),
            MonitoringTopology.MONITOR);
      }
    }
  }

  private Sensor latencySensor(ProcessorContext<String, Object> c, String saeId) {
    return latencySensors.computeIfAbsent(
        saeId,
        id ->
            c.metrics()
                .addLatencyRateTotalSensor(
                    METRICS_SCOPE, id, "inference", Sensor.RecordingLevel.INFO));
  }
}
