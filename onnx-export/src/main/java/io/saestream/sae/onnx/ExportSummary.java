package io.saestream.sae.onnx;

import io.saestream.sae.checkpoint.FoldProvenance;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What {@link SaeOnnxExporter#export} wrote. Immutable.
 *
 * @param model the {@code .onnx} file
 * @param externalData the external-data file next to it, or null when the weights are embedded
 * @param graph the graph kind
 * @param inputs graph inputs in order
 * @param outputs graph outputs in order
 * @param weightBytes float32 weight bytes written (embedded or external)
 * @param maxActive K, the number of (index, value) slots per token
 * @param foldState what was folded into the weights: the checkpoint's recorded provenance, with
 *     {@code decoderNormFolded} also set when the decoder rows are detected to have unit norm
 * @param elapsed wall time of the export
 */
public record ExportSummary(
    Path model,
    @Nullable Path externalData,
    GraphKind graph,
    List<TensorSpec> inputs,
    List<TensorSpec> outputs,
    long weightBytes,
    int maxActive,
    FoldProvenance foldState,
    Duration elapsed) {

  /** Validates and copies the lists. */
  public ExportSummary {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(graph, "graph");
    Objects.requireNonNull(foldState, "foldState");
    Objects.requireNonNull(elapsed, "elapsed");
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    if (weightBytes < 0) {
      throw new IllegalArgumentException("weightBytes must be >= 0, was " + weightBytes);
    }
    if (maxActive <= 0) {
      throw new IllegalArgumentException("maxActive must be > 0, was " + maxActive);
    }
  }
}
