package io.saestream.streams.config;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The Kafka topics the streams app reads and writes.
 *
 * @param activations input, ActivationBatch records (key sequence_id)
 * @param features output, one FeatureBatch per input record and SAE
 * @param reconstruction output, one ReconstructionStats per input record and SAE
 * @param deadLetter output, input records that cannot be processed, with reason headers
 */
public record TopicNames(
    String activations, String features, String reconstruction, String deadLetter) {

  /** Default {@link #activations()}. */
  public static final String DEFAULT_ACTIVATIONS = "sae.activations.v1";

  /** Default {@link #features()}. */
  public static final String DEFAULT_FEATURES = "sae.features.v1";

  /** Default {@link #reconstruction()}. */
  public static final String DEFAULT_RECONSTRUCTION = "sae.reconstruction.v1";

  /** Default {@link #deadLetter()}. */
  public static final String DEFAULT_DEAD_LETTER = "sae.dlq.v1";

  // Kafka's own rule (org.apache.kafka.common.internals.Topic), repeated so that the message can
  // name our configuration key.
  private static final Pattern LEGAL = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

  /** Validates every name and that the four are distinct. */
  public TopicNames {
    check("topics.activations", activations);
    check("topics.features", features);
    check("topics.reconstruction", reconstruction);
    check("topics.dead-letter", deadLetter);
    Set<String> seen = new HashSet<>();
    for (String t : List.of(activations, features, reconstruction, deadLetter)) {
      if (!seen.add(t)) {
        throw new IllegalArgumentException(
            "topics.* must name four different topics, '" + t + "' is used twice");
      }
    }
  }

  /** The defaults: sae.activations.v1, sae.features.v1, sae.reconstruction.v1, sae.dlq.v1. */
  public static TopicNames defaults() {
    return new TopicNames(
        DEFAULT_ACTIVATIONS, DEFAULT_FEATURES, DEFAULT_RECONSTRUCTION, DEFAULT_DEAD_LETTER);
  }

  private static void check(String key, String topic) {
    Objects.requireNonNull(topic, key);
    if (!LEGAL.matcher(topic).matches() || topic.equals(".") || topic.equals("..")) {
      throw new IllegalArgumentException(
          key
              + " must be a legal Kafka topic name ([a-zA-Z0-9._-], 1 to 249 chars), was '"
              + topic
              + "'");
    }
  }
}
