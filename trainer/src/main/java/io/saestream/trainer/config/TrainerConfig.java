package io.saestream.trainer.config;

import io.saestream.schema.checkpoint.HmacKey;
import java.net.URI;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The whole trainer configuration, read by {@link TrainerConfigLoader}. Immutable.
 *
 * @param kafka {@code kafka.*}
 * @param registryUrls {@code schema-registry.urls}
 * @param topics {@code topics.*}
 * @param runtime {@code runtime.*}
 * @param state {@code state.*}
 * @param trainers {@code trainers[]}: at least one, distinct sae-ids
 * @param signingKey signs the checkpoint manifests; from the environment only, never logged
 */
public record TrainerConfig(
    KafkaSettings kafka,
    List<URI> registryUrls,
    TopicSettings topics,
    RuntimeSettings runtime,
    StateSettings state,
    List<SaeTrainerConfig> trainers,
    @Nullable HmacKey signingKey) {

  /** Validates and copies. */
  public TrainerConfig {
    Objects.requireNonNull(kafka, "kafka");
    Objects.requireNonNull(topics, "topics");
    Objects.requireNonNull(runtime, "runtime");
    Objects.requireNonNull(state, "state");
    registryUrls = List.copyOf(Objects.requireNonNull(registryUrls, "registryUrls"));
    if (registryUrls.isEmpty()) {
      throw new IllegalArgumentException("schema-registry.urls must name at least one URL");
    }
    trainers = List.copyOf(Objects.requireNonNull(trainers, "trainers"));
    if (trainers.isEmpty()) {
      throw new IllegalArgumentException("trainers must list at least one SAE");
    }
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < trainers.size(); i++) {
      String id = trainers.get(i).saeId();
      if (!ids.add(id)) {
        throw new IllegalArgumentException(
            "trainers[" + i + "].sae-id must be unique, " + id + " appears twice");
      }
    }
  }

  /** Never shows the signing key. */
  @Override
  public String toString() {
    return "TrainerConfig[kafka="
        + kafka
        + ", registryUrls="
        + registryUrls
        + ", topics="
        + topics
        + ", runtime="
        + runtime
        + ", state="
        + state
        + ", trainers="
        + trainers
        + ", signed="
        + (signingKey != null)
        + "]";
  }
}
