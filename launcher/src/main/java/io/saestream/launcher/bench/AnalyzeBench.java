package io.saestream.launcher.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.saestream.sae.checkpoint.FloatTensor;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;
import io.saestream.sae.checkpoint.SyntheticTensor;
import io.saestream.sae.checkpoint.Tensor;
import io.saestream.sae.fold.Folding;
import io.saestream.sae.onnx.ExportOptions;
import io.saestream.sae.onnx.SaeOnnxExporter;
import java.io.PrintWriter;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Throughput of the {@code analyze} graph against the bare encoder product {@code x·W_enc + b_enc},
 * in one process, interleaved round by round so that machine noise hits both alike; reports the
 * median of each and their ratio.
 */
@Command(
    name = "analyze",
    mixinStandardHelpOptions = true,
    description = "analyze-graph tokens/s vs the bare encoder GEMM, side by side.")
final class AnalyzeBench implements Callable<Integer> {

  @Mixin final SaeShapeOptions shape = SaeShapeOptions.throughputDefaults();

  @Option(names = "--tokens", defaultValue = "1024", description = "N, tokens per call.")
  int tokens;

  @Option(names = "--threads", defaultValue = "2", description = "ORT intra-op threads.")
  int threads;

  @Option(names = "--rounds", defaultValue = "20")
  int rounds;

  @Option(
      names = "--spin",
      negatable = true,
      defaultValue = "false",
      description = "Let ORT's idle intra-op threads spin (default: off, see the source).")
  boolean spin;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    shape.requirePositive(spec.commandLine());
    SaeShapeOptions.requirePositive(spec.commandLine(), "--tokens", tokens);
    SaeShapeOptions.requirePositive(spec.commandLine(), "--threads", threads);
    SaeShapeOptions.requirePositive(spec.commandLine(), "--rounds", rounds);
    PrintWriter out = spec.commandLine().getOut();
    SaeCheckpoint sae = syntheticTopK(shape.dIn, shape.dSae, shape.k);
    // What streams-app serves: the folded form (Folding.toInference), which has unit decoder rows.
    SaeCheckpoint served = Folding.toInference(sae);
    byte[] analyze = SaeOnnxExporter.exportToBytes(served, ExportOptions.defaults());
    byte[] unfolded = SaeOnnxExporter.exportToBytes(sae, ExportOptions.defaults());
    byte[] bare = SaeOnnxExporter.bareEncoderGraph(served);
    float[] x = new float[tokens * shape.dIn];
    new SyntheticTensor(7, 1f, tokens, shape.dIn).readFloats(0, x, 0, x.length);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
      so.setIntraOpNumThreads(threads);
      so.setInterOpNumThreads(1);
      if (!spin) {
        // Three sessions with their own pools share two cores: an idle pool that keeps spinning
        // after its run would steal CPU from the next session's run and bias the comparison.
        so.addConfigEntry("session.intra_op.allow_spinning", "0");
      }
      try (OrtSession sBare = env.createSession(bare, so);
          OrtSession sAnalyze = env.createSession(analyze, so);
          OrtSession sUnfolded = env.createSession(unfolded, so);
          OnnxTensor input =
              OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {tokens, shape.dIn})) {
        Map<String, OnnxTensor> in = Map.of("x", input);
        for (int i = 0; i < 3; i++) {
          time(sBare, in);
          time(sAnalyze, in);
          time(sUnfolded, in);
        }
        double[] tb = new double[rounds];
        double[] ta = new double[rounds];
        double[] tu = new double[rounds];
        for (int r = 0; r < rounds; r++) {
          tb[r] = time(sBare, in);
          ta[r] = time(sAnalyze, in);
          tu[r] = time(sUnfolded, in);
        }
        double mb = median(tb);
        double ma = median(ta);
        double mu = median(tu);
        out.printf(
            Locale.ROOT,
            "topk d_in=%d d_sae=%d k=%d N=%d intra-op threads=%d spinning=%s rounds=%d (medians)%n"
                + "  bare encoder x·W_enc+b_enc : %8.1f ms/call %10.0f tokens/s%n"
                + "  analyze graph (served)     : %8.1f ms/call %10.0f tokens/s  ratio %.3f%n"
                + "  analyze graph (unfolded)   : %8.1f ms/call %10.0f tokens/s  ratio %.3f%n",
            shape.dIn,
            shape.dSae,
            shape.k,
            tokens,
            threads,
            spin,
            rounds,
            mb,
            tokens / mb * 1e3,
            ma,
            tokens / ma * 1e3,
            mb / ma,
            mu,
            tokens / mu * 1e3,
            mb / mu);
        out.flush();
      }
    }
    return 0;
  }

  /** A topk SAE with rescale and non-unit decoder rows, so the graph does its full work. */
  static SaeCheckpoint syntheticTopK(int dIn, int dSae, int k) {
    Map<String, Tensor> t = new LinkedHashMap<>();
    t.put("W_enc", new SyntheticTensor(2, (float) (1 / Math.sqrt(dIn)), dIn, dSae));
    t.put("b_enc", new SyntheticTensor(4, 0.01f, dSae));
    t.put("W_dec", new SyntheticTensor(1, 0.05f, dSae, dIn));
    t.put("b_dec", FloatTensor.of(new float[dIn], dIn));
    return SaeCheckpoint.of(SaeConfig.ofTopK(dIn, dSae, k), t);
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

  private static double median(double[] v) {
    double[] c = v.clone();
    Arrays.sort(c);
    return c[c.length / 2];
  }
}
