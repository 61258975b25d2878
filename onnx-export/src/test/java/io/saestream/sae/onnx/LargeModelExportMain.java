package io.saestream.sae.onnx;

import io.saestream.sae.checkpoint.ActivationNormalization;
import io.saestream.sae.checkpoint.Architecture;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SyntheticTensor;
import io.saestream.sae.checkpoint.Tensor;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Exports a synthetic topk SAE of any size with default options, for {@link LargeModelExportTest},
 * which runs it in a JVM with a small heap. Arguments: {@code <out.onnx> <d_in> <d_sae> <k>}.
 * Prints {@code weightBytes=<n> external=<path> peakHeapBytes=<n>}.
 */
final class LargeModelExportMain {

  private LargeModelExportMain() {}

  public static void main(String[] args) throws Exception {
    Path out = Path.of(args[0]);
    int dIn = Integer.parseInt(args[1]);
    int dSae = Integer.parseInt(args[2]);
    int k = Integer.parseInt(args[3]);
    ExportSummary s =
        SaeOnnxExporter.export(checkpoint(dIn, dSae, k), out, ExportOptions.defaults());
    long peak = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        peak += pool.getPeakUsage().getUsed();
      }
    }
    System.out.println(
        "weightBytes="
            + s.weightBytes()
            + " external="
            + s.externalData()
            + " peakHeapBytes="
            + peak);
  }

  /** A topk SAE (no rescale) whose weights are {@link SyntheticTensor}s seeded 1 to 4. */
  static SaeCheckpoint checkpoint(int dIn, int dSae, int k) {
    TestSaes.Spec spec =
        new TestSaes.Spec(
            Architecture.TOPK, ActivationNormalization.NONE, true, false, dIn, dSae, k);
    Map<String, Tensor> t = new LinkedHashMap<>();
    t.put("W_enc", new SyntheticTensor(1, 0.05f, dIn, dSae));
    t.put("W_dec", new SyntheticTensor(2, 0.05f, dSae, dIn));
    t.put("b_enc", new SyntheticTensor(3, 0.1f, dSae));
    t.put("b_dec", new SyntheticTensor(4, 0.1f, dIn));
    return SaeCheckpoint.of(TestSaes.config(spec), t);
  }
}
