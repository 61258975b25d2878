package io.saestream.trainer.app;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.saestream.trainer.config.TrainerConfig;
import io.saestream.trainer.config.TrainerConfigLoader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The YAML file of a trainer app with one TopK SAE, for the app's tests: the SAE's identity and
 * shape are given up front and every other setting is left at the loader's default unless the test
 * states it, so a test names exactly the settings its assertions depend on. ONNX Runtime always
 * gets one intra-op thread: the test machines are small and shared.
 *
 * <p>Keys are spelled as in the file (see {@link TrainerConfigLoader}). A mutable builder owned by
 * the test that creates it; not thread-safe.
 */
final class TrainerYaml {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private final ObjectNode root = JsonNodeFactory.instance.objectNode();
  private final ObjectNode trainer;

  private TrainerYaml(String saeId, String modelId, String hookName, int dIn, int dSae, int k) {
    section("runtime").put("intra-op-threads", 1);
    trainer = root.putArray("trainers").addObject();
    trainer
        .put("sae-id", saeId)
        .put("model-id", modelId)
        .put("hook-name", hookName)
        .put("d-in", dIn)
        .put("d-sae", dSae)
        .put("k", k);
  }

  /** One TopK SAE {@code saeId} of width {@code dSae} over {@code modelId}'s {@code hookName}. */
  static TrainerYaml topK(String saeId, String modelId, String hookName, int dIn, int dSae, int k) {
    return new TrainerYaml(saeId, modelId, hookName, dIn, dSae, k);
  }

  /**
   * The SAE's {@code batch-size}, mixing {@code buffer-tokens}, {@code lr} and {@code
   * warmup-steps}.
   */
  TrainerYaml training(int batchSize, int bufferTokens, double lr, int warmupSteps) {
    trainer
        .put("batch-size", batchSize)
        .put("buffer-tokens", bufferTokens)
        .put("lr", lr)
        .put("warmup-steps", warmupSteps);
    return this;
  }

  /** The SAE's {@code eval-every}: every Nth batch held out for evaluation, 0 never. */
  TrainerYaml evalEvery(int batches) {
    trainer.put("eval-every", batches);
    return this;
  }

  /** The SAE's publication cadence: {@code publish-every-tokens} and {@code publish-every}. */
  TrainerYaml publishEvery(long tokens, String interval) {
    trainer.put("publish-every-tokens", tokens).put("publish-every", interval);
    return this;
  }

  /** {@code runtime.poll-timeout}, e.g. {@code 100ms}. */
  TrainerYaml pollTimeout(String timeout) {
    section("runtime").put("poll-timeout", timeout);
    return this;
  }

  /** {@code topics.activations} and {@code topics.checkpoints}. */
  TrainerYaml topics(String activations, String checkpoints) {
    section("topics").put("activations", activations).put("checkpoints", checkpoints);
    return this;
  }

  /**
   * The {@code kafka} section and {@code schema-registry.urls} for {@code broker}, as group {@code
   * groupId} with the given passthrough client properties.
   */
  TrainerYaml connectTo(TrainerBroker broker, String groupId, Map<String, Integer> properties) {
    ObjectNode kafka =
        section("kafka")
            .put("bootstrap-servers", broker.bootstrapServers())
            .put("group-id", groupId);
    properties.forEach(kafka.putObject("properties")::put);
    section("schema-registry").put("urls", broker.registryUrl());
    return this;
  }

  /** Durable state in {@code dir} (relative to the base directory), saved every few steps. */
  TrainerYaml state(String dir, int everySteps) {
    section("state").put("dir", dir).put("every-steps", everySteps);
    return this;
  }

  /** The file's text. */
  String text() {
    try {
      return YAML.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException("cannot write the trainer YAML", e);
    }
  }

  /** Parses the text as the trainer would, with {@code environment} overriding it. */
  TrainerConfig parse(Path baseDir, Map<String, String> environment) {
    return TrainerConfigLoader.parse(text(), baseDir, environment);
  }

  /** Writes the text to {@code file}, for a trainer started from the command line. */
  Path writeTo(Path file) {
    try {
      Files.writeString(file, text(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
    return file;
  }

  private ObjectNode section(String name) {
    JsonNode existing = root.get(name);
    return existing instanceof ObjectNode node ? node : root.putObject(name);
  }
}
