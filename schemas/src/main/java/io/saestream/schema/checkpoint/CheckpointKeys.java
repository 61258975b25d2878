package io.saestream.schema.checkpoint;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.apache.kafka.common.utils.Utils;
import org.jspecify.annotations.Nullable;

/**
 * The record keys of the checkpoints topic and the partition a checkpoint is published to (see the
 * package documentation for why they look like this). Stateless.
 */
public final class CheckpointKeys {

  /** Default name of the checkpoints topic. */
  public static final String DEFAULT_TOPIC = "sae.checkpoints.v1";

  /** Longest accepted sae_id, in characters; keys stay well below Kafka's limits. */
  public static final int MAX_SAE_ID_LENGTH = 200;

  private CheckpointKeys() {}

  /** The key of the manifests of {@code saeId}: the id itself. */
  public static String manifestKey(String saeId) {
    requireValidSaeId(saeId);
    return saeId;
  }

  /** The key of chunk {@code index} of {@code version} of {@code saeId}. */
  public static String chunkKey(String saeId, long version, int index) {
    requireValidSaeId(saeId);
    if (version < 0) {
      throw new IllegalArgumentException("version must be >= 0, was " + version);
    }
    if (index < 0) {
      throw new IllegalArgumentException("index must be >= 0, was " + index);
    }
    return saeId + "/" + version + "/" + index;
  }

  /**
   * The partition every record of {@code saeId} is published to: the one Kafka's default
   * partitioner picks for the manifest key.
   */
  public static int partitionFor(String saeId, int partitions) {
    if (partitions <= 0) {
      throw new IllegalArgumentException("partitions must be > 0, was " + partitions);
    }
    byte[] key = manifestKey(saeId).getBytes(StandardCharsets.UTF_8);
    return Utils.toPositive(Utils.murmur2(key)) % partitions;
  }

  /**
   * Why {@code saeId} cannot be used in keys, or null when it can: it must be 1 to {@value
   * #MAX_SAE_ID_LENGTH} characters without {@code '/'}, whitespace or control characters.
   */
  public static @Nullable String saeIdProblem(String saeId) {
    Objects.requireNonNull(saeId, "saeId");
    if (saeId.isEmpty() || saeId.length() > MAX_SAE_ID_LENGTH) {
      return "sae_id must have 1 to " + MAX_SAE_ID_LENGTH + " characters, has " + saeId.length();
    }
    for (int i = 0; i < saeId.length(); i++) {
      char c = saeId.charAt(i);
      if (c == '/' || Character.isWhitespace(c) || Character.isISOControl(c)) {
        return "sae_id must not contain '/', whitespace or control characters, was '" + saeId + "'";
      }
    }
    return null;
  }

  /** Throws {@link IllegalArgumentException} with {@link #saeIdProblem} when there is one. */
  static void requireValidSaeId(String saeId) {
    String problem = saeIdProblem(saeId);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
  }
}
