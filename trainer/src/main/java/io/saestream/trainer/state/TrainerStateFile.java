package io.saestream.trainer.state;

import io.saestream.sae.checkpoint.CheckpointException;
import io.saestream.sae.checkpoint.FloatTensor;
import io.saestream.sae.checkpoint.SafeTensorsFile;
import io.saestream.sae.checkpoint.SafeTensorsWriter;
import io.saestream.sae.checkpoint.Tensor;
import io.saestream.sae.training.SaeParameter;
import io.saestream.trainer.training.EvaluationReport;
import io.saestream.trainer.training.EvaluationWindow;
import io.saestream.trainer.training.TrainerSnapshot;
import io.saestream.trainer.training.TrainerState;
import io.saestream.trainer.training.TrainingSettings;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One SAE's {@link TrainerState} as a safetensors file: the arrays as tensors (float32 parameters,
 * Adam moments and buffered rows; float64 sums and counters, exact below 2^53) and every scalar as
 * a {@code __metadata__} string ({@link Long#toString}, {@link Double#toString}: both round-trip
 * exactly, NaN included). sae-lens tooling can open the parameters by their usual names.
 *
 * <p>Tensor names: {@code W_enc b_enc W_dec b_dec}, {@code adam.m.<param>}, {@code adam.v.<param>},
 * {@code dead.tokens_since_fired}, {@code buffer.rows} (absent when empty), {@code eval.sum_x},
 * {@code eval.sum_sq_x}, {@code eval.fired}. Stateless.
 */
final class TrainerStateFile {

  /** The {@code format} metadata value of this layout. */
  static final String FORMAT = "sae-stream-trainer-state/1";

  private static final String BUFFER_ROWS = "buffer.rows";

  /**
   * What was written.
   *
   * @param bytes the file's size
   * @param sha256 the file's SHA-256, lowercase hex
   */
  record Written(long bytes, String sha256) {}

  private TrainerStateFile() {}

  /** Writes {@code state} to {@code channel} (not forced), digesting the bytes as they go. */
  static Written write(TrainerState state, FileChannel channel) throws IOException {
    DigestingChannel out = new DigestingChannel(channel);
    long n = SafeTensorsWriter.writeTo(out, tensors(state), metadata(state));
    return new Written(n, out.hex());
  }

  /**
   * Reads the state saved in {@code file} for a trainer with {@code settings}.
   *
   * @throws CorruptStateException when the file is not a well-formed state
   * @throws IncompatibleStateException when it is, but for another shape, rule or scaling
   */
  static TrainerState read(Path file, TrainingSettings settings) throws CorruptStateException {
    try (SafeTensorsFile st = SafeTensorsFile.open(file)) {
      Map<String, String> meta = st.metadata();
      String format = meta.get("format");
      if (!FORMAT.equals(format)) {
        throw new CorruptStateException(file + ": format is " + format + ", expected " + FORMAT);
      }
      requireCompatible(file, meta, settings);
      int dIn = settings.dIn();
      int dSae = settings.dSae();
      List<float[]> moments = new ArrayList<>();
      for (SaeParameter p : SaeParameter.values()) {
        long[] shape = p.shape(settings.stepSpec());
        moments.add(floats(st, "adam.m." + p.tensorName(), shape));
        moments.add(floats(st, "adam.v." + p.tensorName(), shape));
      }
      long[] tokensSinceFired = counts(st, "dead.tokens_since_fired", dSae);
      EvaluationWindow.Sums window =
          new EvaluationWindow.Sums(
              doubles(st, "eval.sum_x", dIn),
              doubles(st, "eval.sum_sq_x", dIn),
              counts(st, "eval.fired", dSae),
              doubleOf(file, meta, "eval.sse"),
              doubleOf(file, meta, "eval.l0_sum"),
              longOf(file, meta, "eval.tokens"));
      long bufferTokens = longOf(file, meta, "buffer.tokens");
      float[] bufferRows =
          bufferTokens == 0
              ? new float[0]
              : floats(st, BUFFER_ROWS, new long[] {bufferTokens, dIn});
      EvaluationReport last = lastEvaluation(file, meta);
      EvaluationWindow logDensities = new EvaluationWindow(dIn, dSae);
      logDensities.restore(window);
      TrainerSnapshot snapshot =
          new TrainerSnapshot(
              settings,
              longOf(file, meta, "step"),
              longOf(file, meta, "tokens_trained"),
              floats(st, SaeParameter.W_ENC.tensorName(), new long[] {dIn, dSae}),
              floats(st, SaeParameter.B_ENC.tensorName(), new long[] {dSae}),
              floats(st, SaeParameter.W_DEC.tensorName(), new long[] {dSae, dIn}),
              floats(st, SaeParameter.B_DEC.tensorName(), new long[] {dIn}),
              moments,
              doubleOf(file, meta, "activation_scale"),
              doubleOf(file, meta, "threshold"),
              tokensSinceFired,
              logDensities.logDensities(),
              last);
      return new TrainerState(
          snapshot,
          longOf(file, meta, "tokens_seen"),
          longOf(file, meta, "batches_drawn"),
          longOf(file, meta, "scale.observed"),
          doubleOf(file, meta, "scale.sum_of_norms"),
          bufferRows,
          longOf(file, meta, "buffer.random_state"),
          window,
          last);
    } catch (CheckpointException e) {
      throw new CorruptStateException(String.valueOf(e.getMessage()), e);
    } catch (IOException e) {
      throw new CorruptStateException(file + ": cannot close: " + e, e);
    } catch (IllegalArgumentException e) {
      // A record's own validation refused a value read from the file.
      throw new CorruptStateException(file + ": " + e.getMessage(), e);
    }
  }

  private static void requireCompatible(
      Path file, Map<String, String> meta, TrainingSettings settings) throws CorruptStateException {
    long dIn = longOf(file, meta, "d_in");
    long dSae = longOf(file, meta, "d_sae");
    String rule = meta.get("rule");
    String scaling = meta.get("scales_activations");
    if (dIn != settings.dIn()
        || dSae != settings.dSae()
        || !settings.rule().name().equals(rule)
        || !Boolean.toString(settings.scalesActivations()).equals(scaling)) {
      throw new IncompatibleStateException(
          file
              + " holds a "
              + rule
              + " SAE d_in="
              + dIn
              + " d_sae="
              + dSae
              + " scales_activations="
              + scaling
              + ", the configuration trains a "
              + settings.rule()
              + " SAE d_in="
              + settings.dIn()
              + " d_sae="
              + settings.dSae()
              + " scales_activations="
              + settings.scalesActivations()
              + "; restore the configuration, or point state.dir at an empty directory to start"
              + " over");
    }
  }

  private static Map<String, Tensor> tensors(TrainerState state) {
    TrainerSnapshot s = state.snapshot();
    TrainingSettings settings = s.settings();
    int dIn = settings.dIn();
    int dSae = settings.dSae();
    Map<String, Tensor> t = new LinkedHashMap<>();
    t.put(SaeParameter.W_ENC.tensorName(), FloatTensor.of(s.wEnc(), dIn, dSae));
    t.put(SaeParameter.B_ENC.tensorName(), FloatTensor.of(s.bEnc(), dSae));
    t.put(SaeParameter.W_DEC.tensorName(), FloatTensor.of(s.wDec(), dSae, dIn));
    t.put(SaeParameter.B_DEC.tensorName(), FloatTensor.of(s.bDec(), dIn));
    int i = 0;
    for (SaeParameter p : SaeParameter.values()) {
      long[] shape = p.shape(settings.stepSpec());
      t.put("adam.m." + p.tensorName(), FloatTensor.of(s.moments().get(i++), shape));
      t.put("adam.v." + p.tensorName(), FloatTensor.of(s.moments().get(i++), shape));
    }
    t.put(
        "dead.tokens_since_fired",
        DoubleArrayTensor.ofCounts("dead.tokens_since_fired", s.tokensSinceFired()));
    if (state.bufferedTokens() > 0) {
      t.put(BUFFER_ROWS, FloatTensor.of(state.bufferRows(), state.bufferedTokens(), dIn));
    }
    EvaluationWindow.Sums w = state.evaluationWindow();
    t.put("eval.sum_x", new DoubleArrayTensor(w.sumX(), dIn));
    t.put("eval.sum_sq_x", new DoubleArrayTensor(w.sumSqX(), dIn));
    t.put("eval.fired", DoubleArrayTensor.ofCounts("eval.fired", w.fired()));
    return t;
  }

  private static Map<String, String> metadata(TrainerState state) {
    TrainerSnapshot s = state.snapshot();
    TrainingSettings settings = s.settings();
    Map<String, String> m = new LinkedHashMap<>();
    m.put("format", FORMAT);
    m.put("d_in", Integer.toString(settings.dIn()));
    m.put("d_sae", Integer.toString(settings.dSae()));
    m.put("k", Double.toString(settings.k()));
    m.put("rule", settings.rule().name());
    m.put("scales_activations", Boolean.toString(settings.scalesActivations()));
    m.put("step", Long.toString(s.step()));
    m.put("tokens_trained", Long.toString(s.tokensTrained()));
    m.put("tokens_seen", Long.toString(state.tokensSeen()));
    m.put("batches_drawn", Long.toString(state.batchesDrawn()));
    m.put("activation_scale", Double.toString(s.activationScale()));
    m.put("threshold", Double.toString(s.threshold()));
    m.put("scale.observed", Long.toString(state.scaleObserved()));
    m.put("scale.sum_of_norms", Double.toString(state.scaleSumOfNorms()));
    m.put("buffer.tokens", Integer.toString(state.bufferedTokens()));
    m.put("buffer.random_state", Long.toString(state.bufferRandomState()));
    EvaluationWindow.Sums w = state.evaluationWindow();
    m.put("eval.sse", Double.toString(w.sse()));
    m.put("eval.l0_sum", Double.toString(w.l0Sum()));
    m.put("eval.tokens", Long.toString(w.tokens()));
    EvaluationReport last = state.lastEvaluation();
    if (last != null) {
      m.put("last_eval.tokens", Long.toString(last.tokens()));
      m.put("last_eval.fvu", Double.toString(last.fvu()));
      m.put("last_eval.l0", Double.toString(last.l0()));
      m.put("last_eval.dead_fraction", Double.toString(last.deadFraction()));
      StringBuilder h = new StringBuilder();
      for (int b : last.densityHistogram()) {
        h.append(h.length() == 0 ? "" : ",").append(b);
      }
      m.put("last_eval.density_histogram", h.toString());
    }
    return m;
  }

  private static @Nullable EvaluationReport lastEvaluation(Path file, Map<String, String> meta)
      throws CorruptStateException {
    if (!meta.containsKey("last_eval.tokens")) {
      return null;
    }
    List<Integer> histogram = new ArrayList<>();
    String text = required(file, meta, "last_eval.density_histogram");
    if (!text.isEmpty()) {
      for (String part : text.split(",", -1)) {
        try {
          histogram.add(Integer.parseInt(part));
        } catch (NumberFormatException e) {
          throw new CorruptStateException(
              file + ": last_eval.density_histogram is not a list of integers: " + text, e);
        }
      }
    }
    return new EvaluationReport(
        longOf(file, meta, "last_eval.tokens"),
        doubleOf(file, meta, "last_eval.fvu"),
        doubleOf(file, meta, "last_eval.l0"),
        doubleOf(file, meta, "last_eval.dead_fraction"),
        histogram);
  }

  private static String required(Path file, Map<String, String> meta, String key)
      throws CorruptStateException {
    String v = meta.get(key);
    if (v == null) {
      throw new CorruptStateException(file + ": metadata lacks " + key);
    }
    return v;
  }

  private static long longOf(Path file, Map<String, String> meta, String key)
      throws CorruptStateException {
    String v = required(file, meta, key);
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new CorruptStateException(file + ": metadata " + key + " is not an integer: " + v, e);
    }
  }

  private static double doubleOf(Path file, Map<String, String> meta, String key)
      throws CorruptStateException {
    String v = required(file, meta, key);
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new CorruptStateException(file + ": metadata " + key + " is not a number: " + v, e);
    }
  }

  private static Tensor tensor(SafeTensorsFile st, String name, long[] shape)
      throws CorruptStateException {
    Tensor t = st.tensors().get(name);
    if (t == null) {
      throw new CorruptStateException(st.path() + ": tensor " + name + " is missing");
    }
    if (!Arrays.equals(t.shape(), shape)) {
      throw new CorruptStateException(
          String.format(
              Locale.ROOT,
              "%s: tensor %s has shape %s, expected %s",
              st.path(),
              name,
              Arrays.toString(t.shape()),
              Arrays.toString(shape)));
    }
    return t;
  }

  private static float[] floats(SafeTensorsFile st, String name, long[] shape)
      throws CorruptStateException {
    return tensor(st, name, shape).toFloatArray();
  }

  private static double[] doubles(SafeTensorsFile st, String name, int n)
      throws CorruptStateException {
    double[] out = new double[n];
    tensor(st, name, new long[] {n}).readDoubles(0, out, 0, n);
    return out;
  }

  private static long[] counts(SafeTensorsFile st, String name, int n)
      throws CorruptStateException {
    double[] d = doubles(st, name, n);
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      if (!(d[i] >= 0) || d[i] > (double) (1L << 53) || d[i] != Math.rint(d[i])) {
        throw new CorruptStateException(
            st.path() + ": " + name + "[" + i + "] = " + d[i] + " is not a count");
      }
      out[i] = (long) d[i];
    }
    return out;
  }

  /** Passes writes through to a channel and digests them. */
  private static final class DigestingChannel implements WritableByteChannel {
    private final WritableByteChannel out;
    private final MessageDigest digest;

    DigestingChannel(WritableByteChannel out) {
      this.out = out;
      try {
        this.digest = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("SHA-256 is required of every Java platform", e);
      }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      ByteBuffer seen = src.duplicate();
      int n = out.write(src);
      seen.limit(seen.position() + n);
      digest.update(seen);
      return n;
    }

    @Override
    public boolean isOpen() {
      return out.isOpen();
    }

    @Override
    public void close() throws IOException {
      out.close();
    }

    String hex() {
      return HexFormat.of().formatHex(digest.digest());
    }
  }
}
