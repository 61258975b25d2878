package io.saestream.schema.checkpoint;

import java.util.Map;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;

/** How to create the checkpoints topic. Stateless. */
public final class CheckpointTopic {

  /**
   * Topic settings: compacted, so that the latest manifest of each SAE and its chunks survive while
   * superseded chunks (tombstoned at each publication) go; room for a 512 KiB chunk with its record
   * overhead.
   */
  public static final Map<String, String> CONFIGS =
      Map.of(
          TopicConfig.CLEANUP_POLICY_CONFIG,
          TopicConfig.CLEANUP_POLICY_COMPACT,
          TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
          Integer.toString(2 * CheckpointRecords.MAX_CHUNK_BYTES));

  private CheckpointTopic() {}

  /**
   * The checkpoints topic {@code name}. One partition is plenty (a few records per SAE and
   * version); every record of one SAE goes to one partition in any case, and adding partitions
   * later moves an SAE's new records away from its old ones, so create it with its final count.
   */
  public static NewTopic newTopic(String name, int partitions, short replicationFactor) {
    return new NewTopic(name, partitions, replicationFactor).configs(CONFIGS);
  }
}
