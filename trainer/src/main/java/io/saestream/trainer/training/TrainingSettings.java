package io.saestream.trainer.training;

import io.saestream.sae.training.BatchTopKThreshold;
import io.saestream.sae.training.Formulation;
import io.saestream.sae.training.SparsityRule;
import io.saestream.sae.training.TrainingStepSpec;
import java.util.Objects;

/**
 * Everything that shapes how one SAE is trained. Immutable; validated on construction; built with
 * {@link #builder(int, int, double)}.
 *
 * @param dIn input width
 * @param dSae number of latents
 * @param k latents per token (TopK) or mean latents per token over a batch (BatchTopK)
 * @param rule TopK or BatchTopK
 * @param batchSize tokens per training step
 * @param bufferTokens capacity of the {@link MixingBuffer}; at least two batches
 * @param schedule learning-rate schedule
 * @param auxLossCoefficient weight of the aux-k loss on dead latents
 * @param adamBeta1 Adam β1
 * @param adamBeta2 Adam β2
 * @param maxGradNorm gradient clip norm (sae-lens clips at 1)
 * @param deadLatentWindow tokens without firing after which a latent counts as dead
 * @param scaleEstimationTokens tokens averaged for the {@code expected_average_only_in} scale; 0
 *     disables activation scaling ({@code normalize_activations: none})
 * @param thresholdLearningRate EMA rate of the BatchTopK threshold
 * @param evalEvery every Nth batch is held out for evaluation instead of trained on; 0: never
 * @param intraOpThreads ONNX Runtime intra-op threads; 0 lets ONNX Runtime decide
 * @param device where the step runs
 * @param cudaDeviceId the CUDA device for {@link TrainingDevice#CUDA}/{@link TrainingDevice#AUTO}
 * @param formulation the training graph's layout
 * @param seed seed of initialisation and batch sampling
 */
public record TrainingSettings(
    int dIn,
    int dSae,
    double k,
    SparsityRule rule,
    int batchSize,
    int bufferTokens,
    LearningRateSchedule schedule,
    double auxLossCoefficient,
    double adamBeta1,
    double adamBeta2,
    double maxGradNorm,
    long deadLatentWindow,
    long scaleEstimationTokens,
    double thresholdLearningRate,
    int evalEvery,
    int intraOpThreads,
    TrainingDevice device,
    int cudaDeviceId,
    Formulation formulation,
    long seed) {

  /** Validates every field against the others. */
  public TrainingSettings {
    Objects.requireNonNull(rule, "rule");
    Objects.requireNonNull(schedule, "schedule");
    Objects.requireNonNull(device, "device");
    Objects.requireNonNull(formulation, "formulation");
    if (batchSize <= 0) {
      throw new IllegalArgumentException("batch_size must be > 0, was " + batchSize);
    }
    if (bufferTokens < 2 * batchSize) {
      throw new IllegalArgumentException(
          "buffer_tokens must be >= 2 × batch_size = " + 2 * batchSize + ", was " + bufferTokens);
    }
    if (deadLatentWindow <= 0) {
      throw new IllegalArgumentException(
          "dead_latent_window must be > 0 tokens, was " + deadLatentWindow);
    }
    if (scaleEstimationTokens < 0 || scaleEstimationTokens > bufferTokens) {
      throw new IllegalArgumentException(
          "scale_estimation_tokens must be in [0, buffer_tokens="
              + bufferTokens
              + "] (training waits for the scale while the buffer fills), was "
              + scaleEstimationTokens);
    }
    new BatchTopKThreshold(0, thresholdLearningRate); // validates the rate
    if (evalEvery < 0 || evalEvery == 1) {
      throw new IllegalArgumentException(
          "eval_every must be 0 (off) or >= 2 (every Nth batch held out), was " + evalEvery);
    }
    if (intraOpThreads < 0) {
      throw new IllegalArgumentException("intra_op_threads must be >= 0, was " + intraOpThreads);
    }
    if (cudaDeviceId < 0) {
      throw new IllegalArgumentException("cuda_device_id must be >= 0, was " + cudaDeviceId);
    }
    if (rule == SparsityRule.TOPK && (long) Math.ceil(k) * batchSize <= 0) {
      throw new IllegalArgumentException("k must be > 0, was " + k);
    }
    spec(dIn, dSae, k, rule, auxLossCoefficient, adamBeta1, adamBeta2, maxGradNorm); // validates
  }

  /** A builder with sae-lens-like defaults for an SAE of this shape. */
  public static Builder builder(int dIn, int dSae, double k) {
    return new Builder(dIn, dSae, k);
  }

  /** The training-step graph's spec. */
  public TrainingStepSpec stepSpec() {
    return spec(dIn, dSae, k, rule, auxLossCoefficient, adamBeta1, adamBeta2, maxGradNorm);
  }

  /** Whether batches are scaled by an estimated {@code expected_average_only_in} factor. */
  public boolean scalesActivations() {
    return scaleEstimationTokens > 0;
  }

  /** A builder starting from these settings. */
  public Builder toBuilder() {
    Builder b = new Builder(dIn, dSae, k);
    b.rule = rule;
    b.batchSize = batchSize;
    b.bufferTokens = bufferTokens;
    b.schedule = schedule;
    b.auxLossCoefficient = auxLossCoefficient;
    b.adamBeta1 = adamBeta1;
    b.adamBeta2 = adamBeta2;
    b.maxGradNorm = maxGradNorm;
    b.deadLatentWindow = deadLatentWindow;
    b.scaleEstimationTokens = scaleEstimationTokens;
    b.thresholdLearningRate = thresholdLearningRate;
    b.evalEvery = evalEvery;
    b.intraOpThreads = intraOpThreads;
    b.device = device;
    b.cudaDeviceId = cudaDeviceId;
    b.formulation = formulation;
    b.seed = seed;
    return b;
  }

  private static TrainingStepSpec spec(
      int dIn,
      int dSae,
      double k,
      SparsityRule rule,
      double aux,
      double beta1,
      double beta2,
      double clip) {
    return new TrainingStepSpec(
        dIn, dSae, k, rule, aux, beta1, beta2, TrainingStepSpec.TORCH_ADAM_EPSILON, clip);
  }

  /** Mutable builder; single-use, not thread-safe. */
  public static final class Builder {
    private final int dIn;
    private final int dSae;
    private final double k;
    private SparsityRule rule = SparsityRule.TOPK;
    private int batchSize = 4096;
    private int bufferTokens = 8 * 4096;
    private LearningRateSchedule schedule =
        new LearningRateSchedule(2e-4, 1000, LearningRateSchedule.Decay.NONE, 0, 1.0);
    private double auxLossCoefficient = 1.0;
    private double adamBeta1 = TrainingStepSpec.SAE_LENS_ADAM_BETA1;
    private double adamBeta2 = TrainingStepSpec.SAE_LENS_ADAM_BETA2;
    private double maxGradNorm = TrainingStepSpec.SAE_LENS_MAX_GRAD_NORM;
    private long deadLatentWindow = 10_000_000;
    private long scaleEstimationTokens = 0;
    private double thresholdLearningRate = BatchTopKThreshold.SAE_LENS_LEARNING_RATE;
    private int evalEvery = 0;
    private int intraOpThreads = 0;
    private TrainingDevice device = TrainingDevice.CPU;
    private int cudaDeviceId = 0;
    private Formulation formulation = Formulation.SPARSE;
    private long seed = 42;

    private Builder(int dIn, int dSae, double k) {
      this.dIn = dIn;
      this.dSae = dSae;
      this.k = k;
    }

    /** TopK (default) or BatchTopK. */
    public Builder rule(SparsityRule v) {
      rule = v;
      return this;
    }

    /** Tokens per step. */
    public Builder batchSize(int v) {
      batchSize = v;
      return this;
    }

    /** Mixing buffer capacity in tokens. */
    public Builder bufferTokens(int v) {
      bufferTokens = v;
      return this;
    }

    /** Learning-rate schedule. */
    public Builder schedule(LearningRateSchedule v) {
      schedule = v;
      return this;
    }

    /** Aux-k loss weight. */
    public Builder auxLossCoefficient(double v) {
      auxLossCoefficient = v;
      return this;
    }

    /** Adam's β1 and β2. */
    public Builder adam(double beta1, double beta2) {
      adamBeta1 = beta1;
      adamBeta2 = beta2;
      return this;
    }

    /** Gradient clip norm. */
    public Builder maxGradNorm(double v) {
      maxGradNorm = v;
      return this;
    }

    /** Dead-latent window in tokens. */
    public Builder deadLatentWindow(long v) {
      deadLatentWindow = v;
      return this;
    }

    /** Tokens for the activation scale estimate; 0 disables scaling. */
    public Builder scaleEstimationTokens(long v) {
      scaleEstimationTokens = v;
      return this;
    }

    /** BatchTopK threshold EMA rate. */
    public Builder thresholdLearningRate(double v) {
      thresholdLearningRate = v;
      return this;
    }

    /** Hold out every Nth batch for evaluation (0: never). */
    public Builder evalEvery(int v) {
      evalEvery = v;
      return this;
    }

    /** ONNX Runtime intra-op threads. */
    public Builder intraOpThreads(int v) {
      intraOpThreads = v;
      return this;
    }

    /** Device and CUDA device id. */
    public Builder device(TrainingDevice v, int cudaId) {
      device = v;
      cudaDeviceId = cudaId;
      return this;
    }

    /** Graph formulation. */
    public Builder formulation(Formulation v) {
      formulation = v;
      return this;
    }

    /** Seed. */
    public Builder seed(long v) {
      seed = v;
      return this;
    }

    /** Validates and builds. */
    public TrainingSettings build() {
      return new TrainingSettings(
          dIn,
          dSae,
          k,
          rule,
          batchSize,
          bufferTokens,
          schedule,
          auxLossCoefficient,
          adamBeta1,
          adamBeta2,
          maxGradNorm,
          deadLatentWindow,
          scaleEstimationTokens,
          thresholdLearningRate,
          evalEvery,
          intraOpThreads,
          device,
          cudaDeviceId,
          formulation,
          seed);
    }
  }
}
