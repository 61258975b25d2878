package io.saestream.trainer.training;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import io.saestream.sae.training.BatchTopKThreshold;
import io.saestream.sae.training.SaeParameter;
import io.saestream.sae.training.SparsityRule;
import io.saestream.sae.training.StepVariant;
import io.saestream.sae.training.TrainingStepGraph;
import io.saestream.sae.training.TrainingStepModel;
import io.saestream.sae.training.TrainingStepSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains one TopK/BatchTopK SAE online, sae-lens style: tokens go into a {@link MixingBuffer};
 * whenever it is full, batches are drawn until it is half empty, scaled by the estimated {@code
 * expected_average_only_in} factor, and either trained on (one ONNX Runtime run of the {@link
 * TrainingStepGraph} ADAM step) or, every {@code eval_every}-th batch, held out for evaluation.
 *
 * <p>The parameters and Adam moments live in two sets of direct buffers wrapped once in {@link
 * OnnxTensor}s: a step reads one set and ONNX Runtime writes the updated values straight into the
 * other (pinned outputs), then the sets swap — no per-step allocation or copy of the weights.
 *
 * <p>Ownership and lifetime: owns its ONNX Runtime sessions and native buffers; {@link #close()}
 * releases them, after which every method throws {@link IllegalStateException}. Not thread-safe:
 * one thread (the consumer loop) drives it; {@link #snapshot} copies the state for other threads.
 */
public final class SaeTrainer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SaeTrainer.class);
  private static final float DECODER_INIT_NORM = 0.1f;

  /** Stack of the thread that sets ONNX Runtime up (address space; few pages are touched). */
  private static final long DEEP_STACK_BYTES = 64L << 20;

  private static final List<String> STEP_OUTPUTS =
      List.of(
          TrainingStepGraph.LOSS,
          TrainingStepGraph.MSE_LOSS,
          TrainingStepGraph.AUX_LOSS,
          TrainingStepGraph.GRAD_NORM,
          TrainingStepGraph.FIRED_COUNTS,
          TrainingStepGraph.L0,
          TrainingStepGraph.MIN_POSITIVE_ACT);

  private final String name;
  private final TrainingSettings settings;
  private final TrainingStepSpec spec;
  private final OrtEnvironment env;
  private final OrtSession stepSession;
  private final OrtSession forwardSession;
  private final ParameterSet[] sets = new ParameterSet[2];
  private int current;
  private final float[] batch;
  private final FloatBuffer xBuffer;
  private final OnnxTensor xTensor;
  private final ByteBuffer deadMask;
  private final OnnxTensor deadTensor;
  private final MixingBuffer buffer;
  private @Nullable ActivationScaleEstimator scaler;
  private final DeadLatentTracker dead;
  private final EvaluationWindow evaluation;
  private BatchTopKThreshold threshold;
  private long step;
  private long tokensTrained;
  private long tokensSeen;
  private long batchesDrawn;
  private @Nullable StepReport lastStep;
  private @Nullable EvaluationReport lastEvaluation;
  private boolean closed;

  /**
   * Builds the training graph, opens its sessions and initialises the parameters as sae-lens does.
   *
   * @param name the SAE id, for messages
   * @throws TrainingException when ONNX Runtime refuses the graph or the device cannot be used
   */
  public SaeTrainer(String name, TrainingSettings settings) {
    this.name = Objects.requireNonNull(name, "name");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.spec = settings.stepSpec();
    TrainingStepModel stepModel =
        TrainingStepGraph.builder(spec).formulation(settings.formulation()).build();
    TrainingStepModel forwardModel =
        TrainingStepGraph.builder(spec)
            .variant(StepVariant.GRADIENTS)
            .formulation(settings.formulation())
            .build();
    List<AutoCloseable> opened = new java.util.ArrayList<>();
    try {
      this.env = onDeepStack(name, OrtEnvironment::getEnvironment);
      boolean cuda = useCuda(settings);
      this.stepSession = openSession(stepModel, cuda);
      opened.add(stepSession);
      this.forwardSession = openSession(forwardModel, cuda);
      opened.add(forwardSession);
      sets[0] = new ParameterSet(env, spec);
      opened.add(sets[0]);
      sets[1] = new ParameterSet(env, spec);
      opened.add(sets[1]);
      this.batch = new float[settings.batchSize() * settings.dIn()];
      this.xBuffer = directFloats(batch.length);
      this.xTensor =
          OnnxTensor.createTensor(env, xBuffer, new long[] {settings.batchSize(), settings.dIn()});
      opened.add(xTensor);
      this.deadMask = ByteBuffer.allocateDirect(settings.dSae()).order(ByteOrder.nativeOrder());
      this.deadTensor =
          OnnxTensor.createTensor(env, deadMask, new long[] {settings.dSae()}, OnnxJavaType.BOOL);
      opened.add(deadTensor);
    } catch (OrtException | RuntimeException e) {
      for (AutoCloseable c : opened) {
        try {
          c.close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e instanceof TrainingException t
          ? t
          : new TrainingException("SAE " + name + ": cannot open the training step: " + e, e);
    }
    this.buffer = new MixingBuffer(settings.bufferTokens(), settings.dIn(), settings.seed() + 1);
    this.scaler =
        settings.scalesActivations()
            ? new ActivationScaleEstimator(settings.dIn(), settings.scaleEstimationTokens())
            : null;
    this.dead = new DeadLatentTracker(settings.dSae(), settings.deadLatentWindow());
    this.evaluation = new EvaluationWindow(settings.dIn(), settings.dSae());
    this.threshold = new BatchTopKThreshold(0, settings.thresholdLearningRate());
    initialise(new SplittableRandom(settings.seed()));
  }

  /** The settings. */
  public TrainingSettings settings() {
    return settings;
  }

  /** Optimizer steps taken. */
  public long step() {
    return step;
  }

  /** Tokens consumed by training steps. */
  public long tokensTrained() {
    return tokensTrained;
  }

  /** Tokens offered (trained, held out, buffered or used to estimate the scale). */
  public long tokensSeen() {
    return tokensSeen;
  }

  /** Tokens waiting in the mixing buffer. */
  public int bufferedTokens() {
    return buffer.size();
  }

  /** The last step's report, null before the first step. */
  public @Nullable StepReport lastStep() {
    return lastStep;
  }

  /** The activation scale s, NaN when not scaling or not yet estimated. */
  public double activationScale() {
    ActivationScaleEstimator s = scaler;
    return s != null && s.isSettled() ? s.scale() : Double.NaN;
  }

  /** The current BatchTopK threshold (training scale); 0 for TopK. */
  public double threshold() {
    return threshold.value();
  }

  /** The fraction of latents that are dead now. */
  public double deadFraction() {
    return dead.deadFraction();
  }

  /**
   * Offers {@code tokens} activation rows {@code rows[offset..]} (row-major, raw units) and trains
   * on every batch that becomes available.
   *
   * @return the number of optimizer steps run
   */
  public int offer(float[] rows, int offset, int tokens) {
    requireOpen();
    int dIn = settings.dIn();
    Objects.checkFromIndexSize(offset, tokens * dIn, rows.length);
    int steps = 0;
    int done = 0;
    while (done < tokens) {
      int chunk = Math.min(tokens - done, buffer.free());
      int at = offset + done * dIn;
      ActivationScaleEstimator estimator = scaler;
      if (estimator != null && !estimator.isSettled()) {
        estimator.observe(rows, at, chunk);
      }
      buffer.add(rows, at, chunk);
      done += chunk;
      tokensSeen += chunk;
      if (buffer.isFull()) {
        steps += drain();
      }
    }
    return steps;
  }

  /**
   * The training-mode forward pass (TopK or BatchTopK over this batch) of the current parameters on
   * raw activations {@code x [tokens, d_in]}; scaling is applied and undone as in training.
   */
  public ForwardResult forward(float[] x, int tokens) {
    requireOpen();
    int dIn = settings.dIn();
    if (tokens <= 0 || x.length < tokens * dIn) {
      throw new IllegalArgumentException(
          "x must hold tokens × d_in floats with tokens > 0, was " + x.length + " for " + tokens);
    }
    float s = scaleOrOne();
    FloatBuffer in = directFloats(tokens * dIn);
    for (int i = 0; i < tokens * dIn; i++) {
      in.put(i, x[i] * s);
    }
    ForwardResult scaled = runForward(in, tokens);
    float[] out = scaled.reconstruction();
    for (int i = 0; i < out.length; i++) {
      out[i] /= s;
    }
    return new ForwardResult(out, scaled.l0(), scaled.firedCounts());
  }

  /** The evaluation of the held-out batches since the last {@link #resetEvaluation()}. */
  public EvaluationReport evaluation() {
    return evaluation.report(dead.deadFraction());
  }

  /** Starts a new evaluation window, remembering the finished one for snapshots. */
  public EvaluationReport resetEvaluation() {
    EvaluationReport report = evaluation();
    if (report.tokens() > 0) {
      lastEvaluation = report;
    }
    evaluation.reset();
    return report;
  }

  /** A copy of the decoder rows {@code W_dec [d_sae, d_in]} in training scale. */
  public float[] decoderRows() {
    requireOpen();
    return copy(sets[current].param(SaeParameter.W_DEC));
  }

  /**
   * A consistent copy of the state; with {@code withMoments} it includes the Adam moments (twice
   * the parameters' size) for a resumable state.
   */
  public TrainerSnapshot snapshot(boolean withMoments) {
    requireOpen();
    ParameterSet p = sets[current];
    List<float[]> moments = new java.util.ArrayList<>();
    if (withMoments) {
      for (SaeParameter q : SaeParameter.values()) {
        moments.add(copy(p.first(q)));
        moments.add(copy(p.second(q)));
      }
    }
    EvaluationReport window = evaluation();
    return new TrainerSnapshot(
        settings,
        step,
        tokensTrained,
        copy(p.param(SaeParameter.W_ENC)),
        copy(p.param(SaeParameter.B_ENC)),
        copy(p.param(SaeParameter.W_DEC)),
        copy(p.param(SaeParameter.B_DEC)),
        moments,
        activationScale(),
        threshold.value(),
        dead.tokensSinceFired(),
        evaluation.logDensities(),
        window.tokens() > 0 ? window : lastEvaluation);
  }

  /**
   * Restores a snapshot taken with moments (resume); the mixing buffer starts empty.
   *
   * @throws IllegalArgumentException when its shape or rule differ or it lacks the moments
   */
  public void restore(TrainerSnapshot snapshot) {
    requireOpen();
    requireCompatible(snapshot);
    if (settings.scalesActivations() != snapshot.scaled()) {
      throw new IllegalArgumentException(
          "saved state was trained "
              + (snapshot.scaled() ? "with" : "without")
              + " activation scaling, the settings say the opposite");
    }
    putParameters(snapshot);
    if (snapshot.scaled()) {
      scaler = ActivationScaleEstimator.settled(settings.dIn(), snapshot.activationScale());
    }
    lastEvaluation = snapshot.evaluation();
    buffer.clear();
  }

  /**
   * The whole state, for a durable copy that {@link #resume} continues exactly: a consistent copy
   * taken between two steps (the parameters, moments, mixing buffer and evaluation sums are copied,
   * so this costs about three times the SAE's size plus the buffer).
   */
  public TrainerState state() {
    requireOpen();
    ActivationScaleEstimator s = scaler;
    return new TrainerState(
        snapshot(true),
        tokensSeen,
        batchesDrawn,
        s == null ? 0 : s.observed(),
        s == null ? 0 : s.sumOfNorms(),
        buffer.heldRows(),
        buffer.randomState(),
        evaluation.sums(),
        lastEvaluation);
  }

  /**
   * Continues from {@code state} (taken by {@link #state()} of a trainer with the same shape, rule
   * and scaling): fed the same rows afterwards, this trainer takes the same steps as the one the
   * state was taken from, bit for bit.
   *
   * @throws IllegalArgumentException when the shape, rule or scaling differ, or the saved mixing
   *     buffer holds more rows than this trainer's
   */
  public void resume(TrainerState state) {
    requireOpen();
    TrainerSnapshot snapshot = state.snapshot();
    requireCompatible(snapshot);
    boolean savedScaling = state.scaleObserved() > 0 || snapshot.scaled();
    if (savedScaling && !settings.scalesActivations()) {
      throw new IllegalArgumentException(
          "saved state was trained with activation scaling, the settings say without");
    }
    if (!savedScaling && settings.scalesActivations() && snapshot.step() > 0) {
      throw new IllegalArgumentException(
          "saved state was trained without activation scaling, the settings say with");
    }
    if (state.bufferedTokens() > buffer.capacity()) {
      throw new IllegalArgumentException(
          "saved mixing buffer holds "
              + state.bufferedTokens()
              + " tokens, more than buffer-tokens="
              + buffer.capacity());
    }
    putParameters(snapshot);
    if (settings.scalesActivations()) {
      scaler =
          ActivationScaleEstimator.resume(
              settings.dIn(),
              settings.scaleEstimationTokens(),
              state.scaleObserved(),
              state.scaleSumOfNorms(),
              snapshot.activationScale());
    }
    tokensSeen = state.tokensSeen();
    batchesDrawn = state.batchesDrawn();
    evaluation.restore(state.evaluationWindow());
    lastEvaluation = state.lastEvaluation();
    buffer.restore(state.bufferRows(), state.bufferRandomState());
    lastStep = null;
  }

  private void requireCompatible(TrainerSnapshot snapshot) {
    TrainingSettings s = snapshot.settings();
    if (s.dIn() != settings.dIn() || s.dSae() != settings.dSae() || s.rule() != settings.rule()) {
      throw new IllegalArgumentException(
          "saved state is a "
              + s.rule()
              + " SAE d_in="
              + s.dIn()
              + " d_sae="
              + s.dSae()
              + ", this trainer trains a "
              + settings.rule()
              + " SAE d_in="
              + settings.dIn()
              + " d_sae="
              + settings.dSae());
    }
    if (snapshot.moments().isEmpty()) {
      throw new IllegalArgumentException("saved state lacks the Adam moments");
    }
  }

  /** Parameters, moments, step, tokens, threshold and dead-latent counters from a snapshot. */
  private void putParameters(TrainerSnapshot snapshot) {
    List<float[]> moments = snapshot.moments();
    ParameterSet p = sets[current];
    put(p.param(SaeParameter.W_ENC), snapshot.wEnc());
    put(p.param(SaeParameter.B_ENC), snapshot.bEnc());
    put(p.param(SaeParameter.W_DEC), snapshot.wDec());
    put(p.param(SaeParameter.B_DEC), snapshot.bDec());
    int i = 0;
    for (SaeParameter q : SaeParameter.values()) {
      put(p.first(q), moments.get(i++));
      put(p.second(q), moments.get(i++));
    }
    step = snapshot.step();
    tokensTrained = snapshot.tokensTrained();
    threshold = new BatchTopKThreshold(snapshot.threshold(), settings.thresholdLearningRate());
    dead.restore(snapshot.tokensSinceFired());
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    RuntimeException failure = null;
    for (AutoCloseable c :
        List.<AutoCloseable>of(
            xTensor, deadTensor, sets[0], sets[1], stepSession, forwardSession)) {
      try {
        c.close();
      } catch (Exception e) {
        if (failure == null) {
          failure = new TrainingException("SAE " + name + ": cannot close: " + e, e);
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  // ---------------------------------------------------------------------------------------------

  private int drain() {
    int steps = 0;
    int half = buffer.capacity() / 2;
    while (buffer.size() > half && buffer.size() >= settings.batchSize()) {
      if (!scaleKnown()) {
        throw new IllegalStateException("mixing buffer full before the activation scale is known");
      }
      buffer.take(batch, settings.batchSize());
      batchesDrawn++;
      float s = scaleOrOne();
      for (int i = 0; i < batch.length; i++) {
        xBuffer.put(i, batch[i] * s);
      }
      if (settings.evalEvery() > 0 && batchesDrawn % settings.evalEvery() == 0) {
        ForwardResult r = runForward(xBuffer, settings.batchSize());
        float[] scaledBatch = new float[batch.length];
        xBuffer.get(0, scaledBatch);
        evaluation.add(
            scaledBatch, r.reconstruction(), settings.batchSize(), r.l0(), r.firedCounts());
      } else {
        trainStep();
        steps++;
      }
    }
    return steps;
  }

  private void trainStep() {
    for (int j = 0; j < settings.dSae(); j++) {
      deadMask.put(j, dead.isDead(j) ? (byte) 1 : (byte) 0);
    }
    long next = step + 1;
    double lr = settings.schedule().at(next);
    ParameterSet in = sets[current];
    ParameterSet out = sets[1 - current];
    Map<String, OnnxTensor> inputs = new HashMap<>();
    inputs.put(TrainingStepGraph.X, xTensor);
    inputs.put(TrainingStepGraph.DEAD_MASK, deadTensor);
    Map<String, OnnxValue> pinned = new HashMap<>();
    for (SaeParameter p : SaeParameter.values()) {
      inputs.put(p.tensorName(), in.paramTensors.get(p));
      inputs.put(p.firstMoment(), in.firstMomentTensors.get(p));
      inputs.put(p.secondMoment(), in.secondMomentTensors.get(p));
      pinned.put(p.next(), out.paramTensors.get(p));
      pinned.put(p.nextFirstMoment(), out.firstMomentTensors.get(p));
      pinned.put(p.nextSecondMoment(), out.secondMomentTensors.get(p));
    }
    Set<String> requested = new HashSet<>(STEP_OUTPUTS);
    try (OnnxTensor stepTensor = OnnxTensor.createTensor(env, next);
        OnnxTensor lrTensor = OnnxTensor.createTensor(env, lr)) {
      inputs.put(TrainingStepGraph.STEP, stepTensor);
      inputs.put(TrainingStepGraph.LEARNING_RATE, lrTensor);
      try (OrtSession.Result r = stepSession.run(inputs, requested, pinned)) {
        long[] fired = longs(r, TrainingStepGraph.FIRED_COUNTS);
        int deadBefore = dead.deadCount();
        dead.record(fired, settings.batchSize());
        if (settings.rule() == SparsityRule.BATCH_TOPK) {
          threshold = threshold.update(scalar(r, TrainingStepGraph.MIN_POSITIVE_ACT));
        }
        double loss = scalar(r, TrainingStepGraph.LOSS);
        if (!Double.isFinite(loss)) {
          throw new TrainingException(
              "SAE " + name + ": loss became " + loss + " at step " + next + " (lr " + lr + ")");
        }
        lastStep =
            new StepReport(
                next,
                lr,
                loss,
                scalar(r, TrainingStepGraph.MSE_LOSS),
                scalar(r, TrainingStepGraph.AUX_LOSS),
                scalar(r, TrainingStepGraph.GRAD_NORM),
                scalar(r, TrainingStepGraph.L0),
                deadBefore);
      }
    } catch (OrtException e) {
      throw new TrainingException("SAE " + name + ": training step " + next + " failed: " + e, e);
    }
    current = 1 - current;
    step = next;
    tokensTrained += settings.batchSize();
  }

  private ForwardResult runForward(FloatBuffer x, int tokens) {
    ParameterSet p = sets[current];
    Map<String, OnnxTensor> inputs = new HashMap<>();
    for (SaeParameter q : SaeParameter.values()) {
      inputs.put(q.tensorName(), p.paramTensors.get(q));
    }
    inputs.put(TrainingStepGraph.DEAD_MASK, deadTensor);
    try (OnnxTensor xt = OnnxTensor.createTensor(env, x, new long[] {tokens, settings.dIn()})) {
      inputs.put(TrainingStepGraph.X, xt);
      Set<String> requested =
          Set.of(TrainingStepGraph.SAE_OUT, TrainingStepGraph.L0, TrainingStepGraph.FIRED_COUNTS);
      try (OrtSession.Result r = forwardSession.run(inputs, requested)) {
        OnnxTensor out = (OnnxTensor) r.get(TrainingStepGraph.SAE_OUT).orElseThrow();
        FloatBuffer fb = out.getFloatBuffer();
        float[] xHat = new float[fb.remaining()];
        fb.get(xHat);
        return new ForwardResult(
            xHat, scalar(r, TrainingStepGraph.L0), longs(r, TrainingStepGraph.FIRED_COUNTS));
      }
    } catch (OrtException e) {
      throw new TrainingException("SAE " + name + ": forward pass failed: " + e, e);
    }
  }

  private void initialise(SplittableRandom random) {
    int dIn = settings.dIn();
    int dSae = settings.dSae();
    float[] wDec = new float[dSae * dIn];
    float[] wEnc = new float[dIn * dSae];
    // kaiming_uniform_ bound for a [d_sae, d_in] weight (fan_in = d_in, a = √5); the rescale to
    // norm 0.1 makes only the uniform shape matter.
    double bound = 1.0 / Math.sqrt(dIn);
    for (int j = 0; j < dSae; j++) {
      double sq = 0;
      for (int d = 0; d < dIn; d++) {
        float v = (float) ((random.nextDouble() * 2 - 1) * bound);
        wDec[j * dIn + d] = v;
        sq += (double) v * v;
      }
      float factor = (float) (DECODER_INIT_NORM / Math.sqrt(sq));
      for (int d = 0; d < dIn; d++) {
        wDec[j * dIn + d] *= factor;
        wEnc[d * dSae + j] = wDec[j * dIn + d];
      }
    }
    ParameterSet p = sets[current];
    put(p.param(SaeParameter.W_ENC), wEnc);
    put(p.param(SaeParameter.W_DEC), wDec);
  }

  private boolean scaleKnown() {
    ActivationScaleEstimator s = scaler;
    return s == null || s.isSettled();
  }

  private float scaleOrOne() {
    ActivationScaleEstimator s = scaler;
    return s == null ? 1f : (float) s.scale();
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("trainer for SAE " + name + " is closed");
    }
  }

  private boolean useCuda(TrainingSettings s) {
    if (s.device() == TrainingDevice.CPU) {
      return false;
    }
    boolean available = OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA);
    if (available) {
      return true;
    }
    String problem =
        "this ONNX Runtime build has no CUDA execution provider (providers: "
            + OrtEnvironment.getAvailableProviders()
            + "); build the trainer with -Pgpu to use onnxruntime_gpu";
    if (s.device() == TrainingDevice.CUDA) {
      throw new TrainingException("SAE " + name + ": device is cuda but " + problem);
    }
    LOG.warn("SAE {}: device is auto and {}; training on the CPU", name, problem);
    return false;
  }

  /** Work for {@link #onDeepStack}. */
  @FunctionalInterface
  private interface DeepStackTask<T> {
    T call() throws OrtException;
  }

  /**
   * Runs {@code task} on a short-lived thread with a deep stack and returns its result. Loading
   * ONNX Runtime's native library (the first {@link OrtEnvironment#getEnvironment()} of the
   * process) and optimising a graph recurse natively deeper than a default 1 MiB Java thread stack
   * reliably allows: measured here, the library load alone overflowed it depending on the class
   * path, and a native stack overflow kills the JVM with SIGSEGV and no Java error. So they must
   * not depend on the caller's thread; running the steps needs little stack and stays on it.
   */
  private static <T> T onDeepStack(String name, DeepStackTask<T> task) throws OrtException {
    AtomicReference<@Nullable T> result = new AtomicReference<>();
    AtomicReference<@Nullable Throwable> failure = new AtomicReference<>();
    Thread worker =
        new Thread(
            null,
            () -> {
              try {
                result.set(task.call());
              } catch (OrtException | RuntimeException | Error e) {
                failure.set(e);
              }
            },
            "sae-ort-setup-" + name,
            DEEP_STACK_BYTES);
    worker.start();
    try {
      worker.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TrainingException("SAE " + name + ": interrupted while setting up ONNX Runtime", e);
    }
    Throwable f = failure.get();
    if (f instanceof OrtException oe) {
      throw oe;
    }
    if (f instanceof RuntimeException re) {
      throw re;
    }
    if (f instanceof Error er) {
      throw er;
    }
    return Objects.requireNonNull(result.get(), "the setup thread's result");
  }

  private OrtSession openSession(TrainingStepModel model, boolean cuda) throws OrtException {
    return onDeepStack(name, () -> createSession(model, cuda));
  }

  private OrtSession createSession(TrainingStepModel model, boolean cuda) throws OrtException {
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      if (settings.intraOpThreads() > 0) {
        o.setIntraOpNumThreads(settings.intraOpThreads());
      }
      o.setInterOpNumThreads(1);
      if (cuda) {
        o.addCUDA(settings.cudaDeviceId());
      }
      return env.createSession(model.toByteArray(), o);
    }
  }

  private static double scalar(OrtSession.Result r, String output) {
    OnnxTensor t = (OnnxTensor) r.get(output).orElseThrow();
    return switch (t.getInfo().type) {
      case FLOAT -> t.getFloatBuffer().get(0);
      case DOUBLE -> t.getDoubleBuffer().get(0);
      default ->
          throw new IllegalStateException(output + " has unexpected type " + t.getInfo().type);
    };
  }

  private static long[] longs(OrtSession.Result r, String output) {
    LongBuffer b = ((OnnxTensor) r.get(output).orElseThrow()).getLongBuffer();
    long[] out = new long[b.remaining()];
    b.get(out);
    return out;
  }

  static FloatBuffer directFloats(int n) {
    return ByteBuffer.allocateDirect(n * Float.BYTES)
        .order(ByteOrder.nativeOrder())
        .asFloatBuffer();
  }

  private static float[] copy(FloatBuffer b) {
    float[] out = new float[b.capacity()];
    b.get(0, out);
    return out;
  }

  private static void put(FloatBuffer b, float[] values) {
    if (values.length != b.capacity()) {
      throw new IllegalArgumentException(
          "expected " + b.capacity() + " values, got " + values.length);
    }
    b.put(0, values);
  }

  /** The four parameters and their Adam moments in direct buffers, each wrapped in a tensor. */
  private static final class ParameterSet implements AutoCloseable {
    final Map<SaeParameter, FloatBuffer> params = new EnumMap<>(SaeParameter.class);
    final Map<SaeParameter, FloatBuffer> firstMoments = new EnumMap<>(SaeParameter.class);
    final Map<SaeParameter, FloatBuffer> secondMoments = new EnumMap<>(SaeParameter.class);
    final Map<SaeParameter, OnnxTensor> paramTensors = new EnumMap<>(SaeParameter.class);
    final Map<SaeParameter, OnnxTensor> firstMomentTensors = new EnumMap<>(SaeParameter.class);
    final Map<SaeParameter, OnnxTensor> secondMomentTensors = new EnumMap<>(SaeParameter.class);

    FloatBuffer param(SaeParameter p) {
      return Objects.requireNonNull(params.get(p), p.tensorName());
    }

    FloatBuffer first(SaeParameter p) {
      return Objects.requireNonNull(firstMoments.get(p), p.firstMoment());
    }

    FloatBuffer second(SaeParameter p) {
      return Objects.requireNonNull(secondMoments.get(p), p.secondMoment());
    }

    ParameterSet(OrtEnvironment env, TrainingStepSpec spec) throws OrtException {
      try {
        for (SaeParameter p : SaeParameter.values()) {
          int n = Math.toIntExact(p.elementCount(spec));
          long[] shape = p.shape(spec);
          wrap(env, p, n, shape, params, paramTensors);
          wrap(env, p, n, shape, firstMoments, firstMomentTensors);
          wrap(env, p, n, shape, secondMoments, secondMomentTensors);
        }
      } catch (OrtException | RuntimeException e) {
        close();
        throw e;
      }
    }

    private static void wrap(
        OrtEnvironment env,
        SaeParameter p,
        int n,
        long[] shape,
        Map<SaeParameter, FloatBuffer> buffers,
        Map<SaeParameter, OnnxTensor> tensors)
        throws OrtException {
      FloatBuffer b = directFloats(n);
      buffers.put(p, b);
      tensors.put(p, OnnxTensor.createTensor(env, b, shape));
    }

    @Override
    public void close() {
      for (Map<SaeParameter, OnnxTensor> m :
          List.of(paramTensors, firstMomentTensors, secondMomentTensors)) {
        m.values().forEach(OnnxTensor::close);
      }
    }
  }
}
