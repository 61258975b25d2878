package io.saestream.sae.training;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.lang.management.ManagementFactory;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Measures the full Adam training step in each {@link Formulation}, side by side in one process:
 * sessions run in interleaved rounds on the same inputs and each reports its fastest and median
 * round (wall clock) and its median process CPU time (the machine may be shared). Not a test; run
 * it with
 *
 * <pre>
 * java -cp ... io.saestream.sae.training.TrainingStepBenchmark \
 *     [d_in=768] [d_sae=16384] [k=32] [batch=4096] [threads=2] [rounds=5] [dead=0.05] \
 *     [formulations=SPARSE,SPARSE_GEMM_ENCODER_GRADIENT,DENSE] [rule=TOPK]
 * </pre>
 *
 * Parameters follow sae-lens's initialisation (decoder rows of norm 0.1, {@code W_enc = W_decᵀ},
 * zero biases); x is Gaussian with a per-feature offset; each latent is dead with probability
 * {@code dead}, which sets the size of the aux-k work.
 */
public final class TrainingStepBenchmark {

  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  private TrainingStepBenchmark() {}

  public static void main(String[] args) throws Exception {
    int dIn = Integer.parseInt(arg(args, 0, "768"));
    int dSae = Integer.parseInt(arg(args, 1, "16384"));
    int k = Integer.parseInt(arg(args, 2, "32"));
    int batch = Integer.parseInt(arg(args, 3, "4096"));
    int threads = Integer.parseInt(arg(args, 4, "2"));
    int rounds = Integer.parseInt(arg(args, 5, "5"));
    double deadFraction = Double.parseDouble(arg(args, 6, "0.05"));
    List<Formulation> formulations = new ArrayList<>();
    for (String f : arg(args, 7, "SPARSE,SPARSE_GEMM_ENCODER_GRADIENT,DENSE").split(",", -1)) {
      formulations.add(Formulation.valueOf(f));
    }
    SparsityRule rule = SparsityRule.valueOf(arg(args, 8, "TOPK"));
    TrainingStepSpec spec =
        rule == SparsityRule.TOPK
            ? TrainingStepSpec.topK(dIn, dSae, k)
            : TrainingStepSpec.batchTopK(dIn, dSae, k);

    Random r = new Random(42);
    float[] wDec = new float[dSae * dIn];
    float[] wEnc = new float[dIn * dSae];
    for (int j = 0; j < dSae; j++) {
      double n = 0;
      for (int d = 0; d < dIn; d++) {
        float v = (float) r.nextGaussian();
        wDec[j * dIn + d] = v;
        n += v * v;
      }
      for (int d = 0; d < dIn; d++) {
        wDec[j * dIn + d] *= (float) (0.1 / Math.sqrt(n));
        wEnc[d * dSae + j] = wDec[j * dIn + d];
      }
    }
    float[] x = new float[batch * dIn];
    float[] offset = new float[dIn];
    for (int d = 0; d < dIn; d++) {
      offset[d] = (float) r.nextGaussian();
    }
    for (int i = 0; i < x.length; i++) {
      x[i] = offset[i % dIn] + (float) r.nextGaussian();
    }
    boolean[] dead = new boolean[dSae];
    int deadCount = 0;
    for (int j = 0; j < dSae; j++) {
      dead[j] = r.nextDouble() < deadFraction;
      deadCount += dead[j] ? 1 : 0;
    }

    List<OnnxTensor> owned = new ArrayList<>();
    Map<String, OnnxTensor> in = new LinkedHashMap<>();
    try {
      in.put(TrainingStepGraph.X, tensor(owned, x, batch, dIn));
      in.put(SaeParameter.W_ENC.tensorName(), tensor(owned, wEnc, dIn, dSae));
      in.put(SaeParameter.B_ENC.tensorName(), tensor(owned, new float[dSae], dSae));
      in.put(SaeParameter.W_DEC.tensorName(), tensor(owned, wDec, dSae, dIn));
      in.put(SaeParameter.B_DEC.tensorName(), tensor(owned, new float[dIn], dIn));
      OnnxTensor deadTensor = OnnxTensor.createTensor(StepSession.ENV, dead);
      owned.add(deadTensor);
      in.put(TrainingStepGraph.DEAD_MASK, deadTensor);
      for (SaeParameter p : SaeParameter.values()) {
        long[] shape = p.shape(spec);
        float[] zeros = new float[Math.toIntExact(p.elementCount(spec))];
        in.put(p.firstMoment(), tensor(owned, zeros, shape));
        in.put(p.secondMoment(), tensor(owned, zeros, shape));
      }
      OnnxTensor step = OnnxTensor.createTensor(StepSession.ENV, 1L);
      owned.add(step);
      in.put(TrainingStepGraph.STEP, step);
      OnnxTensor lr = OnnxTensor.createTensor(StepSession.ENV, 3e-4);
      owned.add(lr);
      in.put(TrainingStepGraph.LEARNING_RATE, lr);

      System.out.printf(
          Locale.ROOT,
          "%s d_in=%d d_sae=%d k=%d batch=%d threads=%d dead=%d (%.1f%%) rounds=%d%n",
          rule,
          dIn,
          dSae,
          k,
          batch,
          threads,
          deadCount,
          100.0 * deadCount / dSae,
          rounds);
      double[][] times = new double[formulations.size()][rounds];
      double[][] cpu = new double[formulations.size()][rounds];
      double[] losses = new double[formulations.size()];
      List<OrtSession> sessions = new ArrayList<>();
      try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
        so.setIntraOpNumThreads(threads);
        so.setInterOpNumThreads(1);
        String profile = arg(args, 9, "");
        if (!profile.isEmpty()) {
          so.enableProfiling(profile);
        }
        for (Formulation f : formulations) {
          byte[] model = TrainingStepGraph.builder(spec).formulation(f).build().toByteArray();
          sessions.add(StepSession.ENV.createSession(model, so));
        }
        for (int round = -1; round < rounds; round++) {
          for (int s = 0; s < sessions.size(); s++) {
            long c0 = OS.getProcessCpuTime();
            long t0 = System.nanoTime();
            try (OrtSession.Result result = sessions.get(s).run(in)) {
              losses[s] =
                  ((OnnxTensor) result.get(TrainingStepGraph.LOSS).orElseThrow())
                      .getFloatBuffer()
                      .get(0);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (round >= 0) {
              times[s][round] = seconds;
              cpu[s][round] = (OS.getProcessCpuTime() - c0) / 1e9;
            }
          }
        }
        if (!profile.isEmpty()) {
          for (OrtSession s : sessions) {
            System.out.println("profile: " + s.endProfiling());
          }
        }
      } finally {
        for (OrtSession s : sessions) {
          s.close();
        }
      }
      double sparseMedian = median(times[0]);
      for (int s = 0; s < formulations.size(); s++) {
        double med = median(times[s]);
        double min = Arrays.stream(times[s]).min().orElseThrow();
        System.out.printf(
            Locale.ROOT,
            "%-30s median %8.1f ms  min %8.1f ms  cpu %8.1f ms  %9.0f tokens/s"
                + "  (this / %s: %.2fx)  loss %.6g%n",
            formulations.get(s),
            med * 1e3,
            min * 1e3,
            median(cpu[s]) * 1e3,
            batch / med,
            formulations.get(0),
            med / sparseMedian,
            losses[s]);
      }
    } finally {
      for (OnnxTensor t : owned) {
        t.close();
      }
    }
  }

  private static OnnxTensor tensor(List<OnnxTensor> owned, float[] values, long... shape)
      throws OrtException {
    OnnxTensor t = OnnxTensor.createTensor(StepSession.ENV, FloatBuffer.wrap(values), shape);
    owned.add(t);
    return t;
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static String arg(String[] args, int i, String fallback) {
    return args.length > i ? args[i] : fallback;
  }
}
