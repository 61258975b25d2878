package io.saestream.sae.cli;

import io.saestream.sae.checkpoint.Architecture;
import io.saestream.sae.checkpoint.ReadOptions;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;
import io.saestream.sae.fold.Folding;
import io.saestream.sae.onnx.ExportOptions;
import io.saestream.sae.onnx.ExportSummary;
import io.saestream.sae.onnx.ExternalDataMode;
import io.saestream.sae.onnx.GraphKind;
import io.saestream.sae.onnx.SaeOnnxExporter;
import io.saestream.sae.onnx.TensorSpec;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sae-stream export}: a sae-lens checkpoint directory to an ONNX graph. */
@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    description = {
      "Export a sae-lens SAE (cfg.json + sae_weights.safetensors) to an ONNX graph.",
      "The analyze graph outputs, per token, the active latents (indices, values), the"
          + " reconstruction and its error; never a dense [N, d_sae] tensor."
    },
    sortOptions = false)
public final class ExportCommand implements Callable<Integer> {

  /** Weights above this size get a progress bar on stderr. */
  private static final long PROGRESS_THRESHOLD_BYTES = 64L << 20;

  @Spec CommandLine.Model.@Nullable CommandSpec spec;

  @Option(
      names = "--in",
      required = true,
      paramLabel = "SAE_DIR",
      description = "sae-lens SAE directory (cfg.json + sae_weights.safetensors).")
  @Nullable Path in;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "FILE.onnx",
      description =
          "Model file to write (replaced atomically; weights ≥ 2 GiB go to FILE.onnx.data).")
  @Nullable Path out;

  @Option(
      names = "--graph",
      defaultValue = "analyze",
      paramLabel = "KIND",
      description = "analyze | encoder | decoder (default: ${DEFAULT-VALUE}).")
  String graph = "analyze";

  @Option(
      names = "--max-active",
      paramLabel = "K",
      description =
          "Slots per token for non-topk SAEs (default "
              + ExportOptions.DEFAULT_MAX_ACTIVE
              + ", capped at d_sae); exact while K ≥ the token's L0, and the graph reports how many"
              + " latents did not fit. A topk SAE uses its own k.")
  @Nullable Integer maxActive;

  @Option(
      names = "--fold",
      description =
          "Fold the decoder norms into the encoder (sae-lens 6.14+ rules; unit decoder rows) and"
              + " turn a BatchTopK training checkpoint into JumpReLU. For standard, jumprelu and"
              + " gated SAEs this scales the latent values by the decoder norms (the"
              + " reconstruction is unchanged); refused for topk without"
              + " rescale_acts_by_decoder_norm, where it would change which latents win.")
  boolean fold;

  @Option(
      names = "--external-data",
      defaultValue = "auto",
      paramLabel = "MODE",
      description = "auto | always | never: where the weights go (default: ${DEFAULT-VALUE}).")
  String externalData = "auto";

  @Option(names = "--sae-id", paramLabel = "ID", description = "SAE id for the model metadata.")
  @Nullable String saeId;

  @Option(
      names = "--sae-version",
      paramLabel = "N",
      defaultValue = "0",
      description = "SAE version for the model metadata (default: ${DEFAULT-VALUE}).")
  long saeVersion;

  @Option(
      names = "--allow-non-finite",
      description = "Accept NaN/Inf weights (rejected by default).")
  boolean allowNonFinite;

  @Override
  public Integer call() throws Exception {
    CommandLine.Model.CommandSpec s = java.util.Objects.requireNonNull(spec);
    PrintWriter stdout = s.commandLine().getOut();
    PrintWriter stderr = s.commandLine().getErr();
    Path inDir = java.util.Objects.requireNonNull(in);
    Path outFile = java.util.Objects.requireNonNull(out);
    GraphKind kind = parseGraph(s, graph);
    ExternalDataMode mode = parseExternalData(s, externalData);

    ReadOptions read = ReadOptions.defaults().withAllowNonFinite(allowNonFinite);
    try (SaeCheckpoint source = SaeCheckpoint.open(inDir, read)) {
      SaeCheckpoint toExport = source;
      if (fold) {
        toExport = Folding.toInference(source);
        if (!toExport.config().foldProvenance().decoderNormFolded()) {
          toExport = Folding.foldDecoderNorm(toExport);
        }
      } else if (source.config().architecture() == Architecture.BATCHTOPK) {
        throw new IllegalArgumentException(
            inDir
                + " is a BatchTopK training checkpoint; sae-lens serves it as JumpReLU: add --fold");
      }
      ExportOptions options =
          ExportOptions.defaults().withGraph(kind).withExternalData(mode).withVersion(saeVersion);
      if (maxActive != null) {
        options = options.withMaxActive(maxActive);
      }
      if (saeId != null) {
        options = options.withSaeId(saeId);
      }
      ProgressBar bar = new ProgressBar(stderr, PROGRESS_THRESHOLD_BYTES);
      ExportSummary summary = SaeOnnxExporter.export(toExport, outFile, options.withProgress(bar));
      bar.finish();
      printSummary(stdout, source.config(), toExport.config(), summary, source.sourceSha256());
    }
    return 0;
  }

  private static GraphKind parseGraph(CommandLine.Model.CommandSpec s, String value) {
    try {
      return GraphKind.fromCliName(value);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(s.commandLine(), "--graph: " + e.getMessage(), e);
    }
  }

  private static ExternalDataMode parseExternalData(CommandLine.Model.CommandSpec s, String value) {
    try {
      return ExternalDataMode.valueOf(value.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(
          s.commandLine(),
          "--external-data: unknown mode '" + value + "', expected auto, always or never",
          e);
    }
  }

  private static void printSummary(
      PrintWriter w, SaeConfig in, SaeConfig exported, ExportSummary s, String sha256) {
    w.printf(Locale.ROOT, "Exported %s%n", s.model());
    if (s.externalData() != null) {
      w.printf(Locale.ROOT, "  external data  %s%n", s.externalData());
    }
    w.printf(
        Locale.ROOT,
        "  SAE            %s → %s, d_in=%d, d_sae=%d, normalize=%s, apply_b_dec_to_input=%s%n",
        in.architecture().cfgName(),
        exported.architecture().cfgName(),
        exported.dIn(),
        exported.dSae(),
        exported.normalizeActivations().cfgName(),
        exported.applyBDecToInput());
    if (exported.hookName() != null || exported.modelName() != null) {
      w.printf(
          Locale.ROOT, "  hook           %s @ %s%n", exported.modelName(), exported.hookName());
    }
    w.printf(
        Locale.ROOT,
        "  graph          %s, K=%d slots per token%n",
        s.graph().cliName(),
        s.maxActive());
    w.printf(Locale.ROOT, "  fold state     %s%n", s.foldState().toJsonText());
    w.printf(Locale.ROOT, "  weights        %s%n", ProgressBar.humanBytes(s.weightBytes()));
    w.printf(Locale.ROOT, "  source sha256  %s%n", sha256);
    w.printf(Locale.ROOT, "  inputs         %s%n", describe(s.inputs()));
    w.printf(Locale.ROOT, "  outputs        %s%n", describe(s.outputs()));
    w.printf(Locale.ROOT, "  took           %.1f s%n", s.elapsed().toMillis() / 1000.0);
    w.flush();
  }

  private static String describe(java.util.List<TensorSpec> specs) {
    StringBuilder b = new StringBuilder();
    for (TensorSpec t : specs) {
      if (b.length() > 0) {
        b.append(", ");
      }
      b.append(t);
    }
    return b.toString();
  }
}
