package io.saestream.sae.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.saestream.sae.checkpoint.ActivationNormalization;
import io.saestream.sae.checkpoint.Architecture;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Measures graph throughput against the bare {@code x·W_enc + b_enc} graph ({@link
 * SaeOnnxExporter#bareEncoderGraph}), side by side in one process: sessions run in interleaved
 * rounds and each reports its fastest and median round. Not a test; run it with
 *
 * <pre>
 * java -cp ... io.saestream.sae.onnx.AnalyzeThroughputBenchmark \
 *     [arch=topk] [d_in=768] [d_sae=16384] [k=32] [N=1024] [threads=2] [rounds=20] [folded=true]
 * </pre>
 *
 * {@code folded} gives the decoder unit rows, as sae-lens saves inference checkpoints; otherwise
 * row norms are drawn from U(0.3, 3). For non-topk SAEs {@code k} is the number of slots K.
 */
public final class AnalyzeThroughputBenchmark {

  private AnalyzeThroughputBenchmark() {}

  public static void main(String[] args) throws Exception {
    Architecture arch = Architecture.fromCfgName(arg(args, 0, "topk"));
    int dIn = Integer.parseInt(arg(args, 1, "768"));
    int dSae = Integer.parseInt(arg(args, 2, "16384"));
    int k = Integer.parseInt(arg(args, 3, "32"));
    int n = Integer.parseInt(arg(args, 4, "1024"));
    int threads = Integer.parseInt(arg(args, 5, "2"));
    int rounds = Integer.parseInt(arg(args, 6, "20"));
    boolean folded = Boolean.parseBoolean(arg(args, 7, "true"));
    TestSaes.Spec spec =
        new TestSaes.Spec(
            arch, ActivationNormalization.NONE, true, arch == Architecture.TOPK, dIn, dSae, k);
    SaeCheckpoint sae = TestSaes.random(spec, 42);
    if (folded) {
      sae = TestSaes.withTensor(sae, "W_dec", unitRows(sae.tensor("W_dec").toFloatArray(), dIn));
    }
    ExportOptions options = ExportOptions.defaults();
    if (arch != Architecture.TOPK) {
      options = options.withMaxActive(k);
    }
    Map<String, byte[]> models = new LinkedHashMap<>();
    models.put("bare x·W_enc+b_enc", SaeOnnxExporter.bareEncoderGraph(sae));
    models.put("encoder", SaeOnnxExporter.exportToBytes(sae, options.withGraph(GraphKind.ENCODER)));
    models.put("analyze", SaeOnnxExporter.exportToBytes(sae, options));
    float[][] x = TestSaes.activations(n, dIn, 7);
    FloatBuffer flat = FloatBuffer.allocate(n * dIn);
    for (float[] row : x) {
      flat.put(row);
    }
    flat.flip();
    List<String> names = new ArrayList<>(models.keySet());
    double[][] times = new double[names.size()][rounds];
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        OnnxTensor input = OnnxTensor.createTensor(OrtModel.ENV, flat, new long[] {n, dIn})) {
      so.setIntraOpNumThreads(threads);
      so.setInterOpNumThreads(1);
      List<OrtSession> sessions = new ArrayList<>();
      try {
        for (byte[] model : models.values()) {
          sessions.add(OrtModel.ENV.createSession(model, so));
        }
        Map<String, OnnxTensor> in = Map.of("x", input);
        for (int r = -3; r < rounds; r++) {
          for (int s = 0; s < sessions.size(); s++) {
            double t = time(sessions.get(s), in);
            if (r >= 0) {
              times[s][r] = t;
            }
          }
        }
      } finally {
        for (OrtSession s : sessions) {
          s.close();
        }
      }
    }
    System.out.printf(
        Locale.ROOT,
        "%s%s d_in=%d d_sae=%d K=%d N=%d threads=%d rounds=%d%n",
        arch.cfgName(),
        arch == Architecture.TOPK ? (folded ? " (folded)" : " (unfolded, rescaled)") : "",
        dIn,
        dSae,
        k,
        n,
        threads,
        rounds);
    double[] base = sorted(times[0]);
    for (int s = 0; s < names.size(); s++) {
      double[] t = sorted(times[s]);
      double med = t[t.length / 2];
      System.out.printf(
          Locale.ROOT,
          "  %-20s min %7.1f ms  median %7.1f ms  %8.0f tokens/s  ratio min %.3f  median %.3f%n",
          names.get(s),
          t[0],
          med,
          n / med * 1e3,
          base[0] / t[0],
          base[base.length / 2] / med);
    }
  }

  private static float[] unitRows(float[] w, int cols) {
    for (int r = 0; r < w.length / cols; r++) {
      double s = 0;
      for (int c = 0; c < cols; c++) {
        s += (double) w[r * cols + c] * w[r * cols + c];
      }
      double norm = Math.sqrt(s);
      for (int c = 0; c < cols; c++) {
        w[r * cols + c] = (float) (w[r * cols + c] / norm);
      }
    }
    return w;
  }

  private static double time(OrtSession s, Map<String, OnnxTensor> in) throws OrtException {
    long t0 = System.nanoTime();
    try (OrtSession.Result r = s.run(in)) {
      if (r.size() == 0) {
        throw new IllegalStateException("no outputs");
      }
    }
    return (System.nanoTime() - t0) / 1e6;
  }

  private static double[] sorted(double[] v) {
    double[] c = v.clone();
    Arrays.sort(c);
    return c;
  }

  private static String arg(String[] args, int i, String dflt) {
    return args.length > i ? args[i] : dflt;
  }
}
