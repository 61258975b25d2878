package io.saestream.streams.monitoring;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.processor.StreamPartitioner;

/**
 * Picks the aggregates-topic partition of an sae_id: murmur2 of its UTF-8 bytes, as Kafka's default
 * partitioner does for a string key. The aggregates sink writes with it and interactive queries
 * locate an SAE's owner with it ({@code KafkaStreams.queryMetadataForKey}), so the two can never
 * disagree. Stateless and thread-safe.
 */
public final class SaeKeyPartitioner implements StreamPartitioner<String, Object> {

  /** The one instance. */
  public static final SaeKeyPartitioner INSTANCE = new SaeKeyPartitioner();

  private SaeKeyPartitioner() {}

  /** The partition of {@code saeId} among {@code numPartitions}. */
  public static int partition(String saeId, int numPartitions) {
    if (numPartitions < 1) {
      throw new IllegalArgumentException("numPartitions must be >= 1, was " + numPartitions);
    }
    return Utils.toPositive(Utils.murmur2(saeId.getBytes(StandardCharsets.UTF_8))) % numPartitions;
  }

  @Override
  public Optional<Set<Integer>> partitions(
      String topic, String key, Object value, Headers headers, int numPartitions) {
    return Optional.of(Set.of(partition(key, numPartitions)));
  }

  // Still abstract in Kafka 4.x although deprecated for removal in favour of the one above.
  @Override
  @SuppressWarnings({"removal", "InlineMeSuggester"})
  @Deprecated
  public Optional<Set<Integer>> partitions(
      String topic, String key, Object value, int numPartitions) {
    return partitions(topic, key, value, new RecordHeaders(), numPartitions);
  }
}
