package io.saestream.launcher.it;

import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.serde.SpecificAvroDeserializer;
import io.saestream.schema.v1.FeatureBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Consumers of what an exactly-once app committed: {@code read_committed}, so aborted writes never
 * count as output, assigned every partition of one topic from the beginning, and without a group or
 * auto-commit, so reading changes nothing on the broker. Stateless; the caller owns each consumer
 * it returns, closes it, and uses it from one thread at a time, as KafkaConsumer requires.
 */
final class ReadCommittedConsumers {

  private ReadCommittedConsumers() {}

  /** The FeatureBatch records committed to {@code topic}, of {@code partitions} partitions. */
  static KafkaConsumer<String, FeatureBatch> featureBatches(
      String bootstrap, SchemaRegistryClient registry, String topic, int partitions) {
    return fromTheBeginning(
        new KafkaConsumer<>(
            properties(bootstrap),
            new StringDeserializer(),
            new SpecificAvroDeserializer<>(registry, FeatureBatch.class)),
        topic,
        partitions);
  }

  /** The records committed to {@code topic}, of {@code partitions} partitions, as bytes. */
  static KafkaConsumer<byte[], byte[]> rawRecords(String bootstrap, String topic, int partitions) {
    return fromTheBeginning(
        new KafkaConsumer<>(
            properties(bootstrap), new ByteArrayDeserializer(), new ByteArrayDeserializer()),
        topic,
        partitions);
  }

  private static Map<String, Object> properties(String bootstrap) {
    return Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
        bootstrap,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG,
        "read_committed",
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
        false,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
        "earliest");
  }

  private static <K, V> KafkaConsumer<K, V> fromTheBeginning(
      KafkaConsumer<K, V> consumer, String topic, int partitions) {
    try {
      List<TopicPartition> assigned = new ArrayList<>();
      for (int p = 0; p < partitions; p++) {
        assigned.add(new TopicPartition(topic, p));
      }
      consumer.assign(assigned);
      consumer.seekToBeginning(assigned);
      return consumer;
    } catch (RuntimeException e) {
      consumer.close();
      throw e;
    }
  }
}
