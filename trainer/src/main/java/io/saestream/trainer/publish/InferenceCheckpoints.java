package io.saestream.trainer.publish;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.saestream.sae.checkpoint.FloatTensor;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;
import io.saestream.sae.checkpoint.SafeTensorsWriter;
import io.saestream.sae.checkpoint.Tensor;
import io.saestream.sae.fold.Folding;
import io.saestream.sae.training.SparsityRule;
import io.saestream.trainer.training.TrainerSnapshot;
import io.saestream.trainer.training.TrainingSettings;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns a {@link TrainerSnapshot} into sae-lens checkpoints: the training checkpoint (as sae-lens's
 * {@code TopKTrainingSAE}/{@code BatchTopKTrainingSAE} would save it, with {@code
 * normalize_activations: expected_average_only_in} when the trainer scaled its inputs) and the
 * inference checkpoint sae-stream publishes: activation scale folded ({@link
 * Folding#foldActivationScale}, which divides a BatchTopK threshold by s), then decoder norms
 * folded and BatchTopK converted to JumpReLU ({@link Folding#toInference}). Stateless.
 */
public final class InferenceCheckpoints {

  /** sae-lens's name for the feature-density file written next to the weights. */
  public static final String SPARSITY_FILE = "sparsity.safetensors";

  private InferenceCheckpoints() {}

  /** The training checkpoint of {@code snapshot} (shares its arrays). */
  public static SaeCheckpoint training(TrainerSnapshot snapshot, String modelId, String hookName) {
    TrainingSettings s = snapshot.settings();
    boolean batchTopK = s.rule() == SparsityRule.BATCH_TOPK;
    ObjectNode cfg = JsonNodeFactory.instance.objectNode();
    cfg.put("architecture", batchTopK ? "batchtopk" : "topk");
    cfg.put("d_in", s.dIn());
    cfg.put("d_sae", s.dSae());
    cfg.put("dtype", "float32");
    cfg.put("device", "cpu");
    cfg.put("apply_b_dec_to_input", true);
    cfg.put("normalize_activations", snapshot.scaled() ? "expected_average_only_in" : "none");
    if (batchTopK) {
      cfg.put("k", s.k());
    } else {
      cfg.put("k", (int) s.k());
    }
    cfg.put("rescale_acts_by_decoder_norm", true);
    cfg.put("aux_loss_coefficient", s.auxLossCoefficient());
    if (batchTopK) {
      cfg.put("topk_threshold_lr", s.thresholdLearningRate());
    }
    ObjectNode metadata = cfg.putObject("metadata");
    metadata.put("model_name", modelId);
    metadata.put("hook_name", hookName);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put("W_enc", FloatTensor.of(snapshot.wEnc(), s.dIn(), s.dSae()));
    tensors.put("b_enc", FloatTensor.of(snapshot.bEnc(), s.dSae()));
    tensors.put("W_dec", FloatTensor.of(snapshot.wDec(), s.dSae(), s.dIn()));
    tensors.put("b_dec", FloatTensor.of(snapshot.bDec(), s.dIn()));
    if (batchTopK) {
      tensors.put("topk_threshold", new ScalarF64Tensor(snapshot.threshold()));
    }
    return SaeCheckpoint.of(SaeConfig.fromJson(cfg), tensors);
  }

  /** The folded sae-lens inference checkpoint of {@code snapshot}. */
  public static SaeCheckpoint inference(TrainerSnapshot snapshot, String modelId, String hookName) {
    SaeCheckpoint c = training(snapshot, modelId, hookName);
    if (snapshot.scaled()) {
      c = Folding.foldActivationScale(c, snapshot.activationScale());
    }
    return Folding.toInference(c);
  }

  /**
   * Writes the inference checkpoint of {@code snapshot} to {@code dir} in sae-lens layout ({@code
   * cfg.json}, {@code sae_weights.safetensors}) plus {@value #SPARSITY_FILE} (log10 feature
   * densities under the key {@code sparsity}, as sae-lens writes).
   */
  public static void write(TrainerSnapshot snapshot, String modelId, String hookName, Path dir) {
    inference(snapshot, modelId, hookName).write(dir);
    SafeTensorsWriter.write(
        dir.resolve(SPARSITY_FILE),
        Map.of("sparsity", FloatTensor.of(snapshot.logDensities(), snapshot.settings().dSae())));
  }
}
