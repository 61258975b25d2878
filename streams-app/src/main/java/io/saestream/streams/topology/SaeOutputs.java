package io.saestream.streams.topology;

import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.FeatureBatch;
import io.saestream.schema.v1.ReconstructionStats;
import io.saestream.streams.inference.SaeAnalysis;
import io.saestream.streams.registry.DeployedSae;
import java.time.Instant;
import java.util.Objects;
import org.apache.avro.Schema;
import org.apache.avro.generic.PrimitivesArrays;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * The two records one SAE produces for one ActivationBatch.
 *
 * @param features the sparse latents
 * @param stats the reconstruction metrics
 */
record SaeOutputs(FeatureBatch features, ReconstructionStats stats) {

  private static final Schema INT_ARRAY =
      FeatureBatch.getClassSchema().getField("latent_indices").schema();
  private static final Schema FLOAT_ARRAY =
      FeatureBatch.getClassSchema().getField("latent_values").schema();

  SaeOutputs {
    Objects.requireNonNull(features, "features");
    Objects.requireNonNull(stats, "stats");
  }

  /**
   * Builds both records from the analyze outputs. CSR rows keep the used slots in the graph's order
   * (descending value) and drop the unused ones (index −1).
   *
   * @param totalSquaredDeviation {@code Σ ‖x − x̄‖²} of the batch, for the FVU
   */
  static SaeOutputs assemble(
      SaeAnalysis analysis,
      ActivationBatch batch,
      DeployedSae sae,
      RecordMetadata source,
      double totalSquaredDeviation,
      Instant now) {
    int n = analysis.tokens();
    int k = analysis.slots();
    PrimitivesArrays.IntArray rowOffsets = new PrimitivesArrays.IntArray(n + 1, INT_ARRAY);
    PrimitivesArrays.IntArray indices = new PrimitivesArrays.IntArray(n * k, INT_ARRAY);
    PrimitivesArrays.FloatArray values = new PrimitivesArrays.FloatArray(n * k, FLOAT_ARRAY);
    PrimitivesArrays.FloatArray sse = new PrimitivesArrays.FloatArray(n, FLOAT_ARRAY);
    PrimitivesArrays.FloatArray relativeError = new PrimitivesArrays.FloatArray(n, FLOAT_ARRAY);
    PrimitivesArrays.FloatArray cosine = new PrimitivesArrays.FloatArray(n, FLOAT_ARRAY);
    PrimitivesArrays.IntArray l0 = new PrimitivesArrays.IntArray(n, INT_ARRAY);
    rowOffsets.add(rowOffsets.size(), 0);
    double totalSse = 0;
    long totalL0 = 0;
    for (int t = 0; t < n; t++) {
      for (int s = 0; s < k; s++) {
        long index = analysis.index(t, s);
        if (index >= 0) {
          indices.add(indices.size(), (int) index);
          values.add(values.size(), analysis.value(t, s));
        }
      }
      rowOffsets.add(rowOffsets.size(), indices.size());
      float tokenSse = analysis.sse(t);
      sse.add(sse.size(), tokenSse);
      relativeError.add(relativeError.size(), analysis.relativeError(t));
      cosine.add(cosine.size(), analysis.cosine(t));
      long tokenL0 = analysis.l0(t);
      l0.add(l0.size(), (int) tokenL0);
      totalSse += tokenSse;
      totalL0 += tokenL0;
    }
    FeatureBatch features =
        FeatureBatch.newBuilder()
            .setModelId(batch.getModelId())
            .setHookName(batch.getHookName())
            .setSequenceId(batch.getSequenceId())
            .setStartPosition(batch.getStartPosition())
            .setNTokens(n)
            .setSaeId(sae.saeId())
            .setSaeVersion(sae.version())
            .setDSae(sae.dSae())
            .setRowOffsets(rowOffsets)
            .setLatentIndices(indices)
            .setLatentValues(values)
            .setSourceTopic(source.topic())
            .setSourcePartition(source.partition())
            .setSourceOffset(source.offset())
            .setProducedAt(now)
            .build();
    ReconstructionStats stats =
        ReconstructionStats.newBuilder()
            .setModelId(batch.getModelId())
            .setHookName(batch.getHookName())
            .setSequenceId(batch.getSequenceId())
            .setStartPosition(batch.getStartPosition())
            .setNTokens(n)
            .setSaeId(sae.saeId())
            .setSaeVersion(sae.version())
            .setSse(sse)
            .setRelativeError(relativeError)
            .setCosine(cosine)
            .setL0(l0)
            .setFvu(
                ReconstructionMath.fractionOfVarianceUnexplained(totalSse, totalSquaredDeviation))
            .setMeanL0((double) totalL0 / n)
            .setProducedAt(now)
            .build();
    return new SaeOutputs(features, stats);
  }
}
