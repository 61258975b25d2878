package io.saestream.trainer.app;

import io.saestream.schema.checkpoint.CheckpointRecordDeserializer;
import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.v1.SaeCheckpoint;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Finds the latest manifest of every SAE on the checkpoints topic, so that a restarted trainer
 * continues the version sequence. Stateless.
 */
final class CheckpointVersions {

  /**
   * A manifest and the partition it was read from.
   *
   * @param manifest the latest manifest of its SAE
   * @param partition where it is
   */
  record Latest(SaeCheckpoint manifest, int partition) {}

  private CheckpointVersions() {}

  /** Reads {@code topic} from the beginning to its committed end. */
  static Map<String, Latest> read(
      Map<String, Object> consumerConfig,
      String topic,
      SchemaRegistryClient registry,
      Duration timeout) {
    Map<String, Object> config = new HashMap<>(consumerConfig);
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.remove(ConsumerConfig.GROUP_ID_CONFIG);
    Map<String, Latest> latest = new HashMap<>();
    try (KafkaConsumer<String, SpecificRecord> consumer =
        new KafkaConsumer<>(
            config, new StringDeserializer(), new CheckpointRecordDeserializer(registry))) {
      List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
      if (infos == null || infos.isEmpty()) {
        throw new IllegalStateException(
            "checkpoints topic " + topic + " does not exist; create it (compacted)");
      }
      List<TopicPartition> partitions =
          infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!reached(consumer, end)) {
        if (System.nanoTime() > deadline) {
          throw new org.apache.kafka.common.errors.TimeoutException(
              "reading " + topic + " to its end took longer than " + timeout);
        }
        for (ConsumerRecord<String, SpecificRecord> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.value() instanceof SaeCheckpoint m) {
            Latest known = latest.get(m.getSaeId());
            if (known == null || known.manifest().getVersion() < m.getVersion()) {
              latest.put(m.getSaeId(), new Latest(m, r.partition()));
            }
          }
        }
      }
    }
    return latest;
  }

  private static boolean reached(
      KafkaConsumer<String, SpecificRecord> consumer, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }
}
