package io.saestream.sae.onnx;

import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * How {@link SaeOnnxExporter} exports an SAE. Immutable; start from {@link #defaults()} and use the
 * {@code with*} methods.
 *
 * @param graph which graph to build
 * @param maxActive number of (index, value) slots per token, K; null for the default: {@code k} for
 *     topk SAEs, {@code min(d_sae, DEFAULT_MAX_ACTIVE)} otherwise. A topk SAE accepts only its own
 *     {@code k}.
 * @param externalData where the weights go
 * @param saeId the SAE's identifier for the model metadata; null to use the checkpoint directory's
 *     name ({@code "sae"} for in-memory checkpoints)
 * @param version the SAE version for the model metadata and {@code ModelProto.model_version}
 * @param progress receives weight-writing progress
 * @param sourceSha256 SHA-256 (64 lowercase hex digits) of the {@code sae_weights.safetensors} the
 *     model comes from, for {@code sae_stream.source_sha256}; null to take {@link
 *     io.saestream.sae.checkpoint.SaeCheckpoint#sourceSha256()} from a checkpoint read from disk (a
 *     folded or in-memory checkpoint has none: pass the original file's hash)
 */
public record ExportOptions(
    GraphKind graph,
    @Nullable Integer maxActive,
    ExternalDataMode externalData,
    @Nullable String saeId,
    long version,
    ExportProgressListener progress,
    @Nullable String sourceSha256) {

  /** K for non-topk SAEs when {@link #maxActive()} is null (capped at {@code d_sae}). */
  public static final int DEFAULT_MAX_ACTIVE = 128;

  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

  /** Validates the components. */
  public ExportOptions {
    Objects.requireNonNull(graph, "graph");
    Objects.requireNonNull(externalData, "externalData");
    Objects.requireNonNull(progress, "progress");
    if (maxActive != null && maxActive <= 0) {
      throw new IllegalArgumentException("maxActive must be > 0, was " + maxActive);
    }
    if (saeId != null && saeId.isBlank()) {
      throw new IllegalArgumentException("saeId must not be blank when given");
    }
    if (version < 0) {
      throw new IllegalArgumentException("version must be >= 0, was " + version);
    }
    if (sourceSha256 != null && !SHA256_HEX.matcher(sourceSha256).matches()) {
      throw new IllegalArgumentException(
          "sourceSha256 must be 64 lowercase hex digits, was '" + sourceSha256 + "'");
    }
  }

  /** The analyze graph, default K, automatic external data, no id, version 0, no progress. */
  public static ExportOptions defaults() {
    return new ExportOptions(
        GraphKind.ANALYZE,
        null,
        ExternalDataMode.AUTO,
        null,
        0,
        ExportProgressListener.none(),
        null);
  }

  /** A copy building {@code g}. */
  public ExportOptions withGraph(GraphKind g) {
    return new ExportOptions(g, maxActive, externalData, saeId, version, progress, sourceSha256);
  }

  /** A copy with K = {@code k} slots per token. */
  public ExportOptions withMaxActive(int k) {
    return new ExportOptions(graph, k, externalData, saeId, version, progress, sourceSha256);
  }

  /** A copy with the given external-data mode. */
  public ExportOptions withExternalData(ExternalDataMode mode) {
    return new ExportOptions(graph, maxActive, mode, saeId, version, progress, sourceSha256);
  }

  /** A copy with the given SAE id. */
  public ExportOptions withSaeId(String id) {
    return new ExportOptions(graph, maxActive, externalData, id, version, progress, sourceSha256);
  }

  /** A copy with the given SAE version. */
  public ExportOptions withVersion(long v) {
    return new ExportOptions(graph, maxActive, externalData, saeId, v, progress, sourceSha256);
  }

  /** A copy reporting progress to {@code listener}. */
  public ExportOptions withProgress(ExportProgressListener listener) {
    return new ExportOptions(
        graph, maxActive, externalData, saeId, version, listener, sourceSha256);
  }

  /** A copy recording {@code sha256} as the source weights' hash. */
  public ExportOptions withSourceSha256(String sha256) {
    return new ExportOptions(graph, maxActive, externalData, saeId, version, progress, sha256);
  }
}
