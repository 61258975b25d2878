package io.saestream.launcher.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.saestream.sae.checkpoint.FloatTensor;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;
import io.saestream.sae.checkpoint.SafeTensorsWriter;
import io.saestream.sae.checkpoint.SyntheticTensor;
import io.saestream.sae.checkpoint.Tensor;
import io.saestream.sae.fold.Folding;
import io.saestream.sae.onnx.ExportOptions;
import io.saestream.sae.onnx.ExportSummary;
import io.saestream.sae.onnx.SaeOnnxExporter;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Exports a multi-gigabyte SAE generated on disk (default 4096 × 131072 float32, ≈ 4 GiB) and
 * reports the peak Java heap of the whole run, then runs the result in ONNX Runtime. Run it with a
 * capped heap ({@code SAE_STREAM_JAVA_OPTS=-Xmx1g}) to show the export streams.
 */
@Command(
    name = "export-large",
    mixinStandardHelpOptions = true,
    description = "Generate a large topk SAE on disk, fold + export it, report peak heap.")
final class LargeExportBench implements Callable<Integer> {

  @Mixin final SaeShapeOptions shape = SaeShapeOptions.defaultingTo(4096, 131_072, 32);

  @Option(names = "--work-dir", required = true, description = "Where the SAE and model go.")
  Path workDir;

  @Option(names = "--keep", description = "Keep the generated files.")
  boolean keep;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    shape.requirePositive(spec.commandLine());
    PrintWriter out = spec.commandLine().getOut();
    Path saeDir = Files.createDirectories(workDir.resolve("large-sae"));
    Path model = workDir.resolve("large-sae.onnx");
    try {
      long t0 = System.nanoTime();
      writeSyntheticSae(saeDir);
      long t1 = System.nanoTime();
      out.printf(
          Locale.ROOT,
          "generated %s (%.2f GiB) in %.1f s%n",
          saeDir,
          Files.size(saeDir.resolve(SaeCheckpoint.WEIGHTS_FILE)) / (double) (1L << 30),
          (t1 - t0) / 1e9);
      resetPeaks();
      ExportSummary summary;
      try (SaeCheckpoint sae = SaeCheckpoint.open(saeDir)) {
        summary = SaeOnnxExporter.export(Folding.toInference(sae), model, ExportOptions.defaults());
      }
      long peakHeap = peakHeapBytes();
      out.printf(
          Locale.ROOT,
          "exported %s%s in %.1f s; peak heap during open+fold+export: %d MiB (max heap %d"
              + " MiB)%n",
          summary.model(),
          summary.externalData() == null ? "" : " (+ " + summary.externalData() + ")",
          summary.elapsed().toMillis() / 1000.0,
          peakHeap >> 20,
          Runtime.getRuntime().maxMemory() >> 20);
      runInOrt(out, model);
      out.flush();
      return 0;
    } finally {
      if (!keep) {
        Files.deleteIfExists(saeDir.resolve(SaeCheckpoint.WEIGHTS_FILE));
        Files.deleteIfExists(saeDir.resolve(SaeCheckpoint.CONFIG_FILE));
        Files.deleteIfExists(saeDir);
        Files.deleteIfExists(model);
        Files.deleteIfExists(Path.of(model + SaeOnnxExporter.EXTERNAL_DATA_SUFFIX));
      }
    }
  }

  private void writeSyntheticSae(Path dir) throws Exception {
    Files.writeString(
        dir.resolve(SaeCheckpoint.CONFIG_FILE),
        SaeConfig.ofTopK(shape.dIn, shape.dSae, shape.k).toCfgJson());
    float encScale = (float) (1 / Math.sqrt(shape.dIn));
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put("W_dec", new SyntheticTensor(1, 0.05f, shape.dSae, shape.dIn));
    tensors.put("W_enc", new SyntheticTensor(2, encScale, shape.dIn, shape.dSae));
    tensors.put("b_dec", FloatTensor.of(new float[shape.dIn], shape.dIn));
    tensors.put("b_enc", FloatTensor.of(new float[shape.dSae], shape.dSae));
    SafeTensorsWriter.write(dir.resolve(SaeCheckpoint.WEIGHTS_FILE), tensors);
  }

  private void runInOrt(PrintWriter out, Path model) throws Exception {
    int n = 8;
    float[] x = new float[n * shape.dIn];
    SyntheticTensor gen = new SyntheticTensor(3, 1f, n, shape.dIn);
    gen.readFloats(0, x, 0, x.length);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    long t0 = System.nanoTime();
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
      so.setIntraOpNumThreads(2);
      try (OrtSession s = env.createSession(model.toString(), so);
          OnnxTensor in =
              OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {n, shape.dIn});
          OrtSession.Result r = s.run(Map.of("x", in))) {
        long[] l0s = (long[]) r.get("l0").orElseThrow().getValue();
        float[] rel = (float[]) r.get("relative_error").orElseThrow().getValue();
        out.printf(
            Locale.ROOT,
            "ORT: session + %d tokens in %.1f s; l0 per token %s; relative_error[0] %.4f%n",
            n,
            (System.nanoTime() - t0) / 1e9,
            java.util.Arrays.toString(l0s),
            rel[0]);
      }
    }
  }

  private static void resetPeaks() {
    System.gc();
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP) {
        p.resetPeakUsage();
      }
    }
  }

  private static long peakHeapBytes() {
    long sum = 0;
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP) {
        sum += p.getPeakUsage().getUsed();
      }
    }
    return sum;
  }
}
