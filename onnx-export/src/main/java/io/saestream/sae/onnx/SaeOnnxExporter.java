package io.saestream.sae.onnx;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import io.saestream.sae.checkpoint.Architecture;
import io.saestream.sae.checkpoint.FoldProvenance;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;
import io.saestream.sae.onnx.SaeGraphFactory.GraphPlan;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exports a sae-lens SAE ({@link SaeCheckpoint}) to an ONNX model (opset {@value #OPSET}) that ONNX
 * Runtime runs with sae-lens 6.18's inference semantics; the graph contracts are on {@link
 * GraphKind}.
 *
 * <p>Per token row {@code x}: {@code norm_in} (none; constant_norm_rescale {@code
 * x·sqrt(d_in)/‖x‖}; layer_norm {@code (x−mean)/(std_unbiased+1e-5)}), minus {@code b_dec} when
 * {@code apply_b_dec_to_input}, then the architecture's activation: standard {@code ReLU(h)},
 * jumprelu {@code ReLU(h)·[h>θ]}, gated {@code [x'W_enc+b_gate>0]·ReLU(x'(W_enc⊙exp(r_mag))+b_mag)}
 * (one GEMM serves both), topk (the k largest of {@code h}, times the decoder row norms when {@code
 * rescale_acts_by_decoder_norm}, ReLU applied after the cut).
 *
 * <p>K slots per token hold the K largest activations in descending order (topk: K = k); equal
 * values are ordered by ascending latent index (the ONNX TopK rule, which ONNX Runtime follows), so
 * among exactly tied candidates the lowest indices win; torch.topk promises no order there. A slot
 * with value 0 is unused and has index −1. {@code l0} counts every firing latent and {@code dropped
 * = l0 − used slots}; it is non-zero only when a non-topk SAE fires more than K latents, and then
 * {@code sae_out} and the metrics are those of the K kept latents. Decoding gathers the K decoder
 * rows of each token and contracts them with the values (no dense {@code [N, d_sae]} tensor, no
 * second GEMM), divides by the norms first for rescaled topk, adds {@code b_dec} and undoes the
 * normalisation ({@code out·scale + shift}: {@code ‖x‖/sqrt(d_in)} and 0, or std and mean).
 *
 * <p>Metrics compare {@code sae_out} with the original {@code x}: {@code sse = ‖x−x̂‖²}; {@code
 * relative_error = sse/‖x‖²}, defined as 0 when {@code sse = 0} (also for {@code x = 0}) and {@code
 * +∞} when {@code x = 0 ≠ x̂}; {@code cosine = ⟨x,x̂⟩/(max(‖x‖,1e-8)·max(‖x̂‖,1e-8))}, as torch's
 * cosine_similarity (0 when either is 0).
 *
 * <p>Where float32 results may differ from sae-lens beyond GEMM reordering: constant_norm_rescale
 * treats a row with {@code ‖x‖ < 1e-30} as having norm 1e-30 (sae-lens divides by zero and returns
 * NaN; here a zero row encodes as 0 and decodes to ~0), and undoes the rescale by multiplying with
 * {@code ‖x‖/sqrt(d_in)} rather than dividing by its inverse (≤ 1 ulp); a rescaled topk SAE whose
 * decoder norms all equal 1 within 4 float32 ulps (folded) skips the multiplication and division by
 * those norms (≤ 2.4e-7 relative).
 *
 * <p>Weights are float32 in the graph (F16/BF16/F64 checkpoints are converted while streaming) and
 * are never materialised on the heap: exporting a 4 GB SAE needs a few tens of MB. Stateless and
 * thread-safe; the checkpoint must stay open during a call.
 */
public final class SaeOnnxExporter {

  /** ONNX opset of the default domain. */
  public static final int OPSET = 17;

  /** ONNX IR version (IR 8 covers opset 17). */
  public static final long IR_VERSION = 8;

  /** Version of the graph contract; bumped whenever inputs, outputs or semantics change. */
  public static final String EXPORTER_VERSION = "1";

  /** Protobuf's hard limit: AUTO switches to external data when an embedded model exceeds it. */
  public static final long EMBEDDED_MODEL_LIMIT_BYTES = Integer.MAX_VALUE;

  /** Largest model {@link #exportToBytes} returns. */
  public static final long IN_MEMORY_LIMIT_BYTES = 1536L << 20;

  /** Each tensor's offset in the external-data file is a multiple of this. */
  public static final int EXTERNAL_DATA_ALIGNMENT = OnnxModelWriter.EXTERNAL_DATA_ALIGNMENT;

  /** Suffix appended to the model file name to name its external-data file. */
  public static final String EXTERNAL_DATA_SUFFIX = ".data";

  private static final Logger LOG = LoggerFactory.getLogger(SaeOnnxExporter.class);

  private SaeOnnxExporter() {}

  /**
   * Exports {@code checkpoint} to {@code out}, atomically: the model (and, with external data,
   * {@code out + ".data"}) appear only once fully written and synced; on any failure no partial
   * file is left. An existing model at {@code out} is replaced; so is its data file, which is
   * renamed into place before the model (an embedded export deletes a stale data file).
   *
   * @throws IllegalArgumentException when the checkpoint cannot be served (batchtopk, an unfolded
   *     activation scale, layer_norm with d_in < 2) or the options do not fit it (maxActive for
   *     topk or above d_sae, NEVER for a model over 2 GiB)
   * @throws IOException when {@code out}'s directory does not exist or cannot be written
   */
  public static ExportSummary export(SaeCheckpoint checkpoint, Path out, ExportOptions options)
      throws IOException {
    long start = System.nanoTime();
    Path target = out.toAbsolutePath();
    Path dir = target.getParent();
    if (dir == null || !Files.isDirectory(dir)) {
      throw new NoSuchFileException(
          String.valueOf(dir), null, "output directory does not exist or is not a directory");
    }
    if (Files.isDirectory(target)) {
      throw new FileAlreadyExistsException(
          target.toString(), null, "output path is a directory; expected a .onnx file name");
    }
    Prepared p = prepare(checkpoint, options);
    long embeddedSize = p.writer.embeddedSize();
    boolean external =
        switch (options.externalData()) {
          case ALWAYS -> true;
          case NEVER -> false;
          case AUTO -> embeddedSize > EMBEDDED_MODEL_LIMIT_BYTES;
        };
    if (!external && embeddedSize > EMBEDDED_MODEL_LIMIT_BYTES) {
      throw new IllegalArgumentException(
          "the model with embedded weights would be "
              + embeddedSize
              + " bytes, over protobuf's 2 GiB limit; use external data (AUTO or ALWAYS)");
    }
    String fileName = target.getFileName().toString();
    Path dataTarget = dir.resolve(fileName + EXTERNAL_DATA_SUFFIX);
    String tmpTag = "." + UUID.randomUUID() + ".tmp";
    Path modelTmp = dir.resolve("." + fileName + tmpTag);
    Path dataTmp = dir.resolve("." + fileName + EXTERNAL_DATA_SUFFIX + tmpTag);
    boolean dataMoved = false;
    try {
      if (external) {
        try (FileChannel data = create(dataTmp)) {
          p.writer.writeExternalData(data, options.progress());
          data.force(true);
        }
        try (FileChannel model = create(modelTmp)) {
          p.writer
              .externalModel(dataTarget.getFileName().toString())
              .writeTo(Channels.newOutputStream(model));
          model.force(true);
        }
        move(dataTmp, dataTarget);
        dataMoved = true;
      } else {
        try (FileChannel model = create(modelTmp)) {
          p.writer.writeEmbedded(model, options.progress());
          model.force(true);
        }
      }
      move(modelTmp, target);
    } catch (IOException | RuntimeException | Error e) {
      deleteQuietly(modelTmp, e);
      deleteQuietly(dataTmp, e);
      if (dataMoved) {
        // The new data without its model would pair with an older model at `out`: remove it.
        deleteQuietly(dataTarget, e);
      }
      throw e;
    }
    if (!external && Files.deleteIfExists(dataTarget)) {
      LOG.info("removed stale external-data file {}", dataTarget);
    }
    Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
    LOG.info(
        "exported {} {} graph (d_in={}, d_sae={}, K={}, {} weight bytes{}) to {} in {} ms",
        checkpoint.config().architecture().cfgName(),
        options.graph().cliName(),
        checkpoint.config().dIn(),
        checkpoint.config().dSae(),
        p.slots,
        p.writer.weightBytes(),
        external ? ", external data" : "",
        target,
        elapsed.toMillis());
    return new ExportSummary(
        target,
        external ? dataTarget : null,
        options.graph(),
        p.plan.inputs(),
        p.plan.outputs(),
        p.writer.weightBytes(),
        p.slots,
        p.foldState,
        elapsed);
  }

  /**
   * Exports {@code checkpoint} to an in-memory model with embedded weights, for creating an ONNX
   * Runtime session directly.
   *
   * @throws IllegalArgumentException when the model would exceed {@link #IN_MEMORY_LIMIT_BYTES}
   *     (use {@link #export}, which writes external data), when {@code options} ask for external
   *     data, or when the checkpoint cannot be served
   */
  public static byte[] exportToBytes(SaeCheckpoint checkpoint, ExportOptions options) {
    if (options.externalData() == ExternalDataMode.ALWAYS) {
      throw new IllegalArgumentException(
          "an in-memory model cannot use external data; use export(checkpoint, path, options)");
    }
    Prepared p = prepare(checkpoint, options);
    return toBytes(p.writer, options.progress());
  }

  /**
   * The benchmark baseline: a graph computing only {@code hidden_pre = x·W_enc + b_enc} (float32
   * {@code [N, d_sae]}; {@code b_gate} for gated SAEs) with the same Gemm as the analyze graph.
   * Throughput of {@link GraphKind#ANALYZE} is measured against it.
   *
   * @throws IllegalArgumentException when the model would exceed {@link #IN_MEMORY_LIMIT_BYTES}
   */
  public static byte[] bareEncoderGraph(SaeCheckpoint checkpoint) {
    ExportableSae sae = ExportableSae.of(checkpoint);
    GraphPlan plan = SaeGraphFactory.bareEncoder(sae);
    Map<String, String> metadata = baseMetadata(sae, "bare_encoder");
    ModelProto model = model(plan, metadata, 0, "x·W_enc + b_enc baseline");
    return toBytes(new OnnxModelWriter(model, plan.weights()), ExportProgressListener.none());
  }

  private record Prepared(
      GraphPlan plan, OnnxModelWriter writer, int slots, FoldProvenance foldState) {}

  private static Prepared prepare(SaeCheckpoint checkpoint, ExportOptions options) {
    ExportableSae sae = ExportableSae.of(checkpoint);
    int slots = sae.slots(options.maxActive());
    GraphPlan plan = SaeGraphFactory.build(sae, options.graph(), slots);
    Map<String, String> metadata = baseMetadata(sae, options.graph().cliName());
    metadata.put("sae_stream.sae_id", saeId(checkpoint, options));
    String sha = sourceSha256(checkpoint, options);
    if (sha != null) {
      metadata.put("sae_stream.source_sha256", sha);
    }
    metadata.put("sae_stream.version", Long.toString(options.version()));
    metadata.put("sae_stream.max_active", Integer.toString(slots));
    String doc =
        "sae-lens "
            + sae.architecture().cfgName()
            + " SAE, "
            + options.graph().cliName()
            + " graph, d_in="
            + sae.dIn()
            + ", d_sae="
            + sae.dSae()
            + ", K="
            + slots;
    ModelProto model = model(plan, metadata, options.version(), doc);
    return new Prepared(plan, new OnnxModelWriter(model, plan.weights()), slots, sae.foldState());
  }

  private static Map<String, String> baseMetadata(ExportableSae sae, String graph) {
    SaeConfig cfg = sae.config();
    Map<String, String> m = new LinkedHashMap<>();
    m.put("sae_stream.exporter_version", EXPORTER_VERSION);
    m.put("sae_stream.graph", graph);
    m.put("sae_stream.architecture", cfg.architecture().cfgName());
    m.put("sae_stream.d_in", Integer.toString(cfg.dIn()));
    m.put("sae_stream.d_sae", Integer.toString(cfg.dSae()));
    if (cfg.architecture() == Architecture.TOPK) {
      m.put("sae_stream.k", Integer.toString(cfg.topK()));
    }
    m.put("sae_stream.normalize_activations", cfg.normalizeActivations().cfgName());
    m.put("sae_stream.apply_b_dec_to_input", Boolean.toString(cfg.applyBDecToInput()));
    m.put(
        "sae_stream.rescale_acts_by_decoder_norm",
        Boolean.toString(cfg.rescaleActsByDecoderNorm()));
    m.put("sae_stream.fold_state", sae.foldState().toJsonText());
    m.put("sae_stream.source_dtype", cfg.dtype().name());
    putIfPresent(m, "sae_stream.model_name", cfg.modelName());
    putIfPresent(m, "sae_stream.hook_name", cfg.hookName());
    m.put("sae_stream.cfg_json", cfg.toJson().toString());
    return m;
  }

  private static void putIfPresent(Map<String, String> m, String key, @Nullable String value) {
    if (value != null) {
      m.put(key, value);
    }
  }

  private static String saeId(SaeCheckpoint checkpoint, ExportOptions options) {
    String id = options.saeId();
    if (id != null) {
      return id;
    }
    Path source = checkpoint.source();
    Path name = source == null ? null : source.getFileName();
    return name == null ? "sae" : name.toString();
  }

  private static @Nullable String sourceSha256(SaeCheckpoint checkpoint, ExportOptions options) {
    String given = options.sourceSha256();
    if (given != null) {
      return given;
    }
    return checkpoint.source() == null ? null : checkpoint.sourceSha256();
  }

  private static ModelProto model(
      GraphPlan plan, Map<String, String> metadata, long version, String doc) {
    ModelProto.Builder m =
        ModelProto.newBuilder()
            .setIrVersion(IR_VERSION)
            .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
            .setProducerName("sae-stream")
            .setProducerVersion(EXPORTER_VERSION)
            .setDomain("io.saestream")
            .setModelVersion(version)
            .setDocString(doc)
            .setGraph(plan.graph());
    metadata.forEach(
        (k, v) -> m.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
    return m.build();
  }

  private static byte[] toBytes(OnnxModelWriter writer, ExportProgressListener progress) {
    long size = writer.embeddedSize();
    if (size > IN_MEMORY_LIMIT_BYTES) {
      throw new IllegalArgumentException(
          "the model would be "
              + size
              + " bytes, over the in-memory limit of "
              + IN_MEMORY_LIMIT_BYTES
              + "; export it to a file with export(checkpoint, path, options), which uses external"
              + " data for large models");
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream((int) size);
    try {
      writer.writeEmbedded(Channels.newChannel(bytes), progress);
    } catch (IOException e) {
      throw new UncheckedIOException("writing to memory cannot fail", e);
    }
    return bytes.toByteArray();
  }

  private static FileChannel create(Path p) throws IOException {
    return FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static void deleteQuietly(Path p, Throwable primary) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException | RuntimeException e) {
      primary.addSuppressed(e);
    }
  }
}
