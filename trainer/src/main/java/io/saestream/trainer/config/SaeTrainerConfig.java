package io.saestream.trainer.config;

import io.saestream.sae.training.SparsityRule;
import io.saestream.trainer.training.LearningRateSchedule;
import io.saestream.trainer.training.TrainingSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One entry of {@code trainers}: an SAE trained on the activations of one (model, hook). Immutable;
 * messages name the YAML key.
 *
 * @param saeId {@code sae-id}: the id its checkpoints are published under
 * @param modelId {@code model-id}: ActivationBatch.model_id routed to it
 * @param hookName {@code hook-name}: ActivationBatch.hook_name routed to it
 * @param dIn {@code d-in}
 * @param dSae {@code d-sae}
 * @param k {@code k}: latents per token (topk) or mean latents per token (batchtopk)
 * @param rule {@code rule}: topk or batchtopk
 * @param batchSize {@code batch-size}: tokens per optimizer step
 * @param bufferTokens {@code buffer-tokens}: mixing buffer capacity, at least 2 × batch-size
 * @param schedule {@code lr}, {@code warmup-steps}, {@code decay}, {@code decay-steps}, {@code
 *     final-lr-fraction}
 * @param deadWindow {@code dead-window}: tokens without firing after which a latent is dead
 * @param evalEvery {@code eval-every}: every Nth batch is held out to evaluate the published
 *     versions (FVU, L0, dead fraction in the manifest); 0 never
 * @param publishEveryTokens {@code publish-every-tokens}: publish after this many trained tokens
 * @param publishEvery {@code publish-every}: publish at least this often while training
 * @param outputDir {@code output-dir}: keeps a sae-lens copy of each version there, or null
 * @param seed {@code seed}
 */
public record SaeTrainerConfig(
    String saeId,
    String modelId,
    String hookName,
    int dIn,
    int dSae,
    double k,
    SparsityRule rule,
    int batchSize,
    int bufferTokens,
    LearningRateSchedule schedule,
    long deadWindow,
    int evalEvery,
    long publishEveryTokens,
    Duration publishEvery,
    @Nullable Path outputDir,
    long seed) {

  /** Validates every field. */
  public SaeTrainerConfig {
    requireText(saeId, "sae-id");
    requireText(modelId, "model-id");
    requireText(hookName, "hook-name");
    Objects.requireNonNull(rule, "rule");
    Objects.requireNonNull(schedule, "schedule");
    Objects.requireNonNull(publishEvery, "publishEvery");
    positive("d-in", dIn);
    positive("d-sae", dSae);
    if (!(k > 0) || !Double.isFinite(k) || k > dSae) {
      throw new IllegalArgumentException("k must be in (0, d-sae=" + dSae + "], was " + k);
    }
    positive("batch-size", batchSize);
    if (bufferTokens < 2L * batchSize) {
      throw new IllegalArgumentException(
          "buffer-tokens must be >= 2 × batch-size = " + 2L * batchSize + ", was " + bufferTokens);
    }
    positive("dead-window", deadWindow);
    if (evalEvery < 0 || evalEvery == 1) {
      throw new IllegalArgumentException(
          "eval-every must be 0 (off) or >= 2 (every Nth batch held out), was " + evalEvery);
    }
    positive("publish-every-tokens", publishEveryTokens);
    if (publishEvery.isNegative() || publishEvery.isZero()) {
      throw new IllegalArgumentException("publish-every must be > 0, was " + publishEvery);
    }
  }

  /** The training settings of this SAE on the given device. */
  public TrainingSettings trainingSettings(RuntimeSettings runtime) {
    return TrainingSettings.builder(dIn, dSae, k)
        .rule(rule)
        .batchSize(batchSize)
        .bufferTokens(bufferTokens)
        .schedule(schedule)
        .deadLatentWindow(deadWindow)
        .evalEvery(evalEvery)
        .intraOpThreads(runtime.intraOpThreads())
        .device(runtime.device(), runtime.cudaDeviceId())
        .seed(seed)
        .build();
  }

  private static void requireText(String value, String key) {
    Objects.requireNonNull(value, key);
    if (value.isBlank()) {
      throw new IllegalArgumentException(key + " must not be blank");
    }
  }

  private static void positive(String key, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(key + " must be > 0, was " + value);
    }
  }
}
