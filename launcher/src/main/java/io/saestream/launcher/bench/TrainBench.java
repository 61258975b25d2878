package io.saestream.launcher.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.saestream.sae.training.Formulation;
import io.saestream.sae.training.SaeParameter;
import io.saestream.sae.training.TrainingStepGraph;
import io.saestream.sae.training.TrainingStepSpec;
import io.saestream.schema.checkpoint.CheckpointRelease;
import io.saestream.schema.checkpoint.PublishedCheckpoint;
import io.saestream.trainer.publish.CheckpointSink;
import io.saestream.trainer.publish.SnapshotPublisher;
import io.saestream.trainer.state.DurableState;
import io.saestream.trainer.state.StateStore;
import io.saestream.trainer.state.StateWriter;
import io.saestream.trainer.training.LearningRateSchedule;
import io.saestream.trainer.training.SaeTrainer;
import io.saestream.trainer.training.TrainerState;
import io.saestream.trainer.training.TrainingSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Training throughput, in one process:
 *
 * <ol>
 *   <li>the full Adam step (forward, backward, aux-k, Adam) as the trainer runs it, the sparse ONNX
 *       Runtime graph ({@link Formulation#SPARSE}: decoder and its gradient touch the k selected
 *       rows per token), against the dense formulation of the same step ({@link Formulation#DENSE}:
 *       dense {@code [batch, d_sae]} activations and gradients, every product a GEMM), on the same
 *       inputs, interleaved round by round (the order alternating) so that machine noise hits both
 *       alike: medians, tokens/s, the ratio of the medians and the median of the per-round ratios,
 *       and each side's process CPU time per step;
 *   <li>whether publishing stalls training: a real {@link SaeTrainer} steps while, every few steps,
 *       the trainer app's publication round runs ({@link SaeTrainer#state()} copied on the training
 *       thread, then fold, serialise, zip and digest on the {@link SnapshotPublisher}'s thread and
 *       the durable state written by a {@link StateWriter}, one of each in flight at most); the
 *       step times with work in flight against those without, and the copy, in steps.
 * </ol>
 */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description =
        "Training tokens/s: the sparse ONNX Runtime step vs a dense formulation of the same step,"
            + " side by side; then the step times while publications run.")
final class TrainBench implements Callable<Integer> {

  /** ONNX Runtime's library load and graph optimisation need more than a default thread stack. */
  private static final long DEEP_STACK_BYTES = 64L << 20;

  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  @Mixin final SaeShapeOptions shape = SaeShapeOptions.throughputDefaults();

  @Option(names = "--batch", defaultValue = "4096", description = "Tokens per step.")
  int batch;

  @Option(names = "--threads", defaultValue = "2", description = "ORT intra-op threads.")
  int threads;

  @Option(names = "--rounds", defaultValue = "5", description = "Sparse/dense rounds.")
  int rounds;

  @Option(
      names = "--dead",
      defaultValue = "0.05",
      description = "Fraction of latents marked dead (sizes the aux-k work).")
  double dead;

  @Option(
      names = "--publish-steps",
      defaultValue = "12",
      description = "Steps timed while publishing (0 skips that part).")
  int publishSteps;

  @Option(
      names = "--publish-every",
      defaultValue = "3",
      description = "A publication round every this many steps.")
  int publishEvery;

  @Option(
      names = "--spin",
      negatable = true,
      defaultValue = "false",
      description =
          "Let ORT's idle intra-op threads spin (default: off, two sessions share cores).")
  boolean spin;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Latents marked dead in (1), set with the inputs. */
  private int deadCount;

  @Override
  public Integer call() throws Exception {
    checkOptions();
    PrintWriter out = spec.commandLine().getOut();
    AtomicReference<@Nullable Throwable> failure = new AtomicReference<>();
    Thread worker =
        new Thread(
            null,
            () -> {
              try {
                run(out);
              } catch (Exception | Error e) {
                failure.set(e);
              }
            },
            "sae-bench-train",
            DEEP_STACK_BYTES);
    worker.start();
    worker.join();
    Throwable f = failure.get();
    if (f instanceof Exception e) {
      throw e;
    }
    if (f instanceof Error e) {
      throw e;
    }
    return 0;
  }

  private void checkOptions() {
    shape.requirePositive(spec.commandLine());
    Map<String, Double> positive = new LinkedHashMap<>();
    positive.put("--batch", (double) batch);
    positive.put("--threads", (double) threads);
    positive.put("--rounds", (double) rounds);
    positive.put("--publish-every", (double) publishEvery);
    for (Map.Entry<String, Double> e : positive.entrySet()) {
      if (!(e.getValue() > 0)) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), e.getKey() + " must be > 0, was " + e.getValue().longValue());
      }
    }
    if (shape.k > shape.dSae) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--k must be <= --d-sae, was " + shape.k + " > " + shape.dSae);
    }
    if (publishSteps < 0) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--publish-steps must be >= 0, was " + publishSteps);
    }
    if (!(dead >= 0 && dead < 1)) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--dead must be in [0, 1), was " + dead);
    }
  }

  private void run(PrintWriter out) throws Exception {
    out.printf(
        Locale.ROOT,
        "sae-stream bench train  %s, %s (%d CPUs), Java %s; 1-min load average %s at start"
            + " (anything above ~1 means other processes shared the CPUs)%n",
        LocalDate.now(ZoneOffset.UTC),
        cpuModel(),
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"),
        loadAverage());
    out.printf(
        Locale.ROOT,
        "  topk d_in=%d d_sae=%d k=%d batch=%d; ORT intra-op threads %d, spinning %s%n",
        shape.dIn,
        shape.dSae,
        shape.k,
        batch,
        threads,
        spin);
    out.flush();
    compareFormulations(out);
    if (publishSteps > 0) {
      timePublishing(out);
    }
    out.printf(Locale.ROOT, "  1-min load average at end: %s%n", loadAverage());
    out.flush();
  }

  // ---------------------------------------------------------------------------------------------
  // (1) sparse vs dense

  private void compareFormulations(PrintWriter out) throws OrtException {
    TrainingStepSpec stepSpec = TrainingStepSpec.topK(shape.dIn, shape.dSae, shape.k);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    List<Formulation> sides = List.of(Formulation.SPARSE, Formulation.DENSE);
    List<OnnxTensor> owned = new ArrayList<>();
    List<OrtSession> sessions = new ArrayList<>();
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
      Map<String, OnnxTensor> in = stepInputs(env, stepSpec, owned);
      so.setIntraOpNumThreads(threads);
      so.setInterOpNumThreads(1);
      if (!spin) {
        // Two sessions with their own pools share the cores: an idle pool that keeps spinning
        // after its run would steal CPU from the other side's run and bias the comparison.
        so.addConfigEntry("session.intra_op.allow_spinning", "0");
      }
      for (Formulation f : sides) {
        sessions.add(
            env.createSession(
                TrainingStepGraph.builder(stepSpec).formulation(f).build().toByteArray(), so));
      }
      double[][] wall = new double[sides.size()][rounds];
      double[][] cpu = new double[sides.size()][rounds];
      double[] loss = new double[sides.size()];
      for (int round = -1; round < rounds; round++) {
        for (int i = 0; i < sides.size(); i++) {
          // Alternate which side goes first, so neither always runs on a machine just warmed up
          // (or just loaded) by the other.
          int s = Math.floorMod(round, 2) == 0 ? i : sides.size() - 1 - i;
          long c0 = OS.getProcessCpuTime();
          long t0 = System.nanoTime();
          try (OrtSession.Result r = sessions.get(s).run(in)) {
            loss[s] =
                ((OnnxTensor) r.get(TrainingStepGraph.LOSS).orElseThrow()).getFloatBuffer().get(0);
          }
          if (round >= 0) {
            wall[s][round] = (System.nanoTime() - t0) / 1e6;
            cpu[s][round] = (OS.getProcessCpuTime() - c0) / 1e6;
          }
        }
      }
      double[] paired = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        paired[r] = wall[1][r] / wall[0][r];
      }
      out.printf(
          Locale.ROOT,
          "  (1) Adam step, %d interleaved rounds after one warm-up each; %d of %d latents dead"
              + " (aux-k)%n",
          rounds,
          deadCount,
          shape.dSae);
      for (int s = 0; s < sides.size(); s++) {
        double med = median(wall[s]);
        out.printf(
            Locale.ROOT,
            "      %-6s: median %8.1f ms/step (min %8.1f), %9.0f tokens/s, CPU %7.1f ms/step;"
                + " loss %.6g; rounds %s%n",
            sides.get(s),
            med,
            Arrays.stream(wall[s]).min().orElseThrow(),
            batch / med * 1e3,
            median(cpu[s]),
            loss[s],
            format(wall[s]));
      }
      out.printf(
          Locale.ROOT,
          "      sparse speed-up: %.2fx (dense median / sparse median; goal >= 2); per round %s,"
              + " median %.2fx; losses agree to %.1e relative%n",
          median(wall[1]) / median(wall[0]),
          format(paired, "%.2f"),
          median(paired),
          Math.abs(loss[1] - loss[0]) / Math.max(Math.abs(loss[0]), 1e-30));
      out.flush();
    } finally {
      for (OrtSession s : sessions) {
        s.close();
      }
      for (OnnxTensor t : owned) {
        t.close();
      }
    }
  }

  /** sae-lens's initialisation, a Gaussian batch with a per-dimension offset, zero moments. */
  private Map<String, OnnxTensor> stepInputs(
      OrtEnvironment env, TrainingStepSpec stepSpec, List<OnnxTensor> owned) throws OrtException {
    int dIn = shape.dIn;
    int dSae = shape.dSae;
    SplittableRandom r = new SplittableRandom(42);
    float[] wDec = new float[dSae * dIn];
    float[] wEnc = new float[dIn * dSae];
    for (int j = 0; j < dSae; j++) {
      double n = 0;
      for (int d = 0; d < dIn; d++) {
        float v = (float) gaussian(r);
        wDec[j * dIn + d] = v;
        n += (double) v * v;
      }
      for (int d = 0; d < dIn; d++) {
        wDec[j * dIn + d] *= (float) (0.1 / Math.sqrt(n));
        wEnc[d * dSae + j] = wDec[j * dIn + d];
      }
    }
    boolean[] deadMask = new boolean[dSae];
    deadCount = 0;
    for (int j = 0; j < dSae; j++) {
      deadMask[j] = r.nextDouble() < dead;
      deadCount += deadMask[j] ? 1 : 0;
    }
    Map<String, OnnxTensor> in = new LinkedHashMap<>();
    in.put(TrainingStepGraph.X, tensor(env, owned, activations(r), batch, dIn));
    in.put(SaeParameter.W_ENC.tensorName(), tensor(env, owned, wEnc, dIn, dSae));
    in.put(SaeParameter.B_ENC.tensorName(), tensor(env, owned, new float[dSae], dSae));
    in.put(SaeParameter.W_DEC.tensorName(), tensor(env, owned, wDec, dSae, dIn));
    in.put(SaeParameter.B_DEC.tensorName(), tensor(env, owned, new float[dIn], dIn));
    OnnxTensor mask = OnnxTensor.createTensor(env, deadMask);
    owned.add(mask);
    in.put(TrainingStepGraph.DEAD_MASK, mask);
    for (SaeParameter p : SaeParameter.values()) {
      long[] shape = p.shape(stepSpec);
      float[] zeros = new float[Math.toIntExact(p.elementCount(stepSpec))];
      in.put(p.firstMoment(), tensor(env, owned, zeros, shape));
      in.put(p.secondMoment(), tensor(env, owned, zeros, shape));
    }
    OnnxTensor step = OnnxTensor.createTensor(env, 1L);
    owned.add(step);
    in.put(TrainingStepGraph.STEP, step);
    OnnxTensor lr = OnnxTensor.createTensor(env, 2e-4);
    owned.add(lr);
    in.put(TrainingStepGraph.LEARNING_RATE, lr);
    return in;
  }

  private float[] activations(SplittableRandom r) {
    int dIn = shape.dIn;
    float[] offset = new float[dIn];
    for (int d = 0; d < dIn; d++) {
      offset[d] = (float) gaussian(r);
    }
    float[] x = new float[batch * dIn];
    for (int i = 0; i < x.length; i++) {
      x[i] = offset[i % dIn] + (float) gaussian(r);
    }
    return x;
  }

  private static OnnxTensor tensor(
      OrtEnvironment env, List<OnnxTensor> owned, float[] values, long... shape)
      throws OrtException {
    OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(values), shape);
    owned.add(t);
    return t;
  }

  // ---------------------------------------------------------------------------------------------
  // (2) publishing while training

  /** When a background task started and finished. */
  private static final class Span {
    final long start = System.nanoTime();
    volatile long end = Long.MAX_VALUE;

    boolean overlaps(long from, long to) {
      return start < to && end > from;
    }

    double millis() {
      return (end - start) / 1e6;
    }
  }

  private void timePublishing(PrintWriter out) throws IOException {
    TrainingSettings settings =
        TrainingSettings.builder(shape.dIn, shape.dSae, shape.k)
            .batchSize(batch)
            .bufferTokens(2 * batch)
            .schedule(LearningRateSchedule.constant(2e-4))
            .evalEvery(0)
            .intraOpThreads(threads)
            .build();
    SplittableRandom r = new SplittableRandom(7);
    float[][] pool = {activations(r), activations(r)};
    Path work = Files.createTempDirectory("sae-bench-train-");
    CheckpointSink sink = TrainBench::digestPayload;
    List<Span> publications = new ArrayList<>();
    List<Span> saves = new ArrayList<>();
    List<Double> copies = new ArrayList<>();
    List<CompletableFuture<?>> pending = new ArrayList<>();
    double[] stepMs = new double[publishSteps];
    long[][] stepSpan = new long[publishSteps][2];
    try (SaeTrainer trainer = new SaeTrainer("bench", settings);
        SnapshotPublisher publisher =
            new SnapshotPublisher(
                "bench", "bench-model", "blocks.8.hook_resid_pre", sink, null, 1);
        StateWriter writer = new StateWriter(StateStore.open(work.resolve("state"), 1))) {
      // Fill half the buffer, then two warm-up steps.
      trainer.offer(pool[0], 0, batch);
      for (int i = 0; i < 2; i++) {
        trainer.offer(pool[1 - i % 2], 0, batch);
      }
      for (int i = 0; i < publishSteps; i++) {
        long t0 = System.nanoTime();
        int steps = trainer.offer(pool[i % 2], 0, batch);
        long t1 = System.nanoTime();
        if (steps != 1) {
          throw new IllegalStateException("expected one step per batch, got " + steps);
        }
        stepMs[i] = (t1 - t0) / 1e6;
        stepSpan[i][0] = t0;
        stepSpan[i][1] = t1;
        if ((i + 1) % publishEvery == 0 && !publisher.busy() && !writer.busy()) {
          long c0 = System.nanoTime();
          TrainerState state = trainer.state();
          copies.add((System.nanoTime() - c0) / 1e6);
          Span p = new Span();
          publications.add(p);
          CompletableFuture<PublishedCheckpoint> published = publisher.publish(state.snapshot());
          pending.add(published.whenComplete((ok, e) -> p.end = System.nanoTime()));
          Span s = new Span();
          saves.add(s);
          DurableState durable =
              new DurableState(
                  Instant.now(),
                  Map.of(),
                  Map.of("bench", new DurableState.SaeState(state, publisher.nextVersion() - 1)));
          pending.add(writer.save(durable).whenComplete((ok, e) -> s.end = System.nanoTime()));
          // The copy belongs to this iteration of the loop: the next step starts after it.
          stepMs[i] += (System.nanoTime() - c0) / 1e6;
          stepSpan[i][1] = System.nanoTime();
        }
      }
      // A failed publication or save fails the bench.
      for (CompletableFuture<?> f : pending) {
        f.join();
      }
    } finally {
      deleteRecursively(work);
    }
    List<Double> quiet = new ArrayList<>();
    List<Double> busy = new ArrayList<>();
    for (int i = 0; i < publishSteps; i++) {
      long from = stepSpan[i][0];
      long to = stepSpan[i][1];
      boolean overlapped =
          publications.stream().anyMatch(p -> p.overlaps(from, to))
              || saves.stream().anyMatch(s -> s.overlaps(from, to));
      (overlapped ? busy : quiet).add(stepMs[i]);
    }
    double quietMedian = median(quiet);
    double busyMax = busy.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    out.printf(
        Locale.ROOT,
        "  (2) %d sparse steps on a SaeTrainer, a publication round every %d steps (state copied"
            + " on the training thread; fold, serialise, zip, SHA-256 on the publisher's thread;"
            + " state written and fsynced on the writer's)%n",
        publishSteps,
        publishEvery);
    out.printf(
        Locale.ROOT,
        "      steps with nothing in flight : %d, median %.1f ms%n",
        quiet.size(),
        quietMedian);
    out.printf(
        Locale.ROOT,
        "      steps overlapping a round    : %d, median %.1f ms, max %.1f ms (the copy included"
            + " where it was taken)%n",
        busy.size(),
        median(busy),
        busyMax);
    out.printf(
        Locale.ROOT,
        "      state copy on the training thread: max %.1f ms; publication %s ms; state save %s"
            + " ms (off the training thread)%n",
        copies.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN),
        format(publications.stream().mapToDouble(Span::millis).toArray()),
        format(saves.stream().mapToDouble(Span::millis).toArray()));
    out.printf(
        Locale.ROOT,
        "      worst stall: %.2f step(s) ((max overlapping - median quiet) / median quiet; goal"
            + " < 1)%n",
        (busyMax - quietMedian) / quietMedian);
    out.flush();
  }

  /** The sink's work besides the network: read the payload and digest it, as the publisher does. */
  private static PublishedCheckpoint digestPayload(CheckpointRelease release) {
    try (InputStream in = release.payload().open()) {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      long size = 0;
      for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
        sha.update(buf, 0, n);
        size += n;
      }
      String hex = HexFormat.of().formatHex(sha.digest());
      return new PublishedCheckpoint(
          release.saeId(), release.version(), hex, size, (int) (size >> 19) + 1, 0, 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private static double gaussian(SplittableRandom r) {
    double u = 1 - r.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
  }

  private static double median(double[] v) {
    if (v.length == 0) {
      return Double.NaN;
    }
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static double median(List<Double> v) {
    return median(v.stream().mapToDouble(Double::doubleValue).toArray());
  }

  private static String format(double[] v) {
    return format(v, "%.0f");
  }

  private static String format(double[] v, String pattern) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < v.length; i++) {
      b.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, pattern, v[i]));
    }
    return b.append(']').toString();
  }

  private static String cpuModel() {
    try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"), StandardCharsets.UTF_8)) {
      return lines
          .filter(l -> l.startsWith("model name"))
          .map(l -> l.substring(l.indexOf(':') + 1).trim())
          .findFirst()
          .orElse("unknown CPU");
    } catch (IOException | UncheckedIOException e) {
      return "unknown CPU";
    }
  }

  private static String loadAverage() {
    double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    return load < 0 ? "n/a" : String.format(Locale.ROOT, "%.2f", load);
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
