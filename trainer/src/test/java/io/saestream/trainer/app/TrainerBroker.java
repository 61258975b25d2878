package io.saestream.trainer.app;

import io.saestream.embedded.kafka.EmbeddedKafkaBroker;
import io.saestream.embedded.registry.EmbeddedSchemaRegistry;
import io.saestream.schema.checkpoint.CheckpointRecordDeserializer;
import io.saestream.schema.checkpoint.CheckpointTopic;
import io.saestream.schema.registry.RestSchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryClientConfig;
import io.saestream.schema.v1.SaeCheckpoint;
import io.saestream.schema.v1.SaeCheckpointChunk;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A real in-JVM Kafka broker and schema registry holding one trainer's activations topic and its
 * single-partition checkpoints topic, for the trainer's integration tests. Owned by the test that
 * starts it, which closes it (broker and registry stop); every method opens and closes its own
 * clients, so the test may call them while a trainer runs against the broker.
 */
final class TrainerBroker implements AutoCloseable {

  private final String activations;
  private final TopicPartition checkpoints;
  private final EmbeddedKafkaBroker kafka;
  private final EmbeddedSchemaRegistry registryServer;
  private final SchemaRegistryClient registry;

  /** Takes over {@code kafka}, which holds the topics, and starts the registry beside it. */
  private TrainerBroker(String activations, String checkpoints, EmbeddedKafkaBroker kafka) {
    this.activations = activations;
    this.checkpoints = new TopicPartition(checkpoints, 0);
    this.kafka = kafka;
    this.registryServer = EmbeddedSchemaRegistry.start();
    this.registry =
        new RestSchemaRegistryClient(
            SchemaRegistryClientConfig.of(registryServer.url().toString()));
  }

  /** Starts both servers and creates the two topics. */
  static TrainerBroker start(String activations, int activationPartitions, String checkpoints) {
    EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.withDefaults().start();
    try {
      kafka.createTopics(
          new NewTopic(activations, activationPartitions, (short) 1),
          CheckpointTopic.newTopic(checkpoints, 1, (short) 1));
      return new TrainerBroker(activations, checkpoints, kafka);
    } catch (RuntimeException e) {
      kafka.close();
      throw e;
    }
  }

  /** The broker's bootstrap servers. */
  String bootstrapServers() {
    return kafka.bootstrapServers();
  }

  /** The registry's URL. */
  String registryUrl() {
    return registryServer.url().toString();
  }

  /**
   * A producer of activation batches to the activations topic, {@code acks=all}; the caller closes
   * it.
   */
  ActivationProducer activationProducer() {
    return new ActivationProducer(
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrapServers(),
            ProducerConfig.ACKS_CONFIG,
            "all"),
        registry,
        activations);
  }

  /**
   * The offsets {@code group} has committed, by partition (none for a partition never committed).
   */
  Map<TopicPartition, Long> committedOffsets(String group) throws Exception {
    try (Admin admin = admin()) {
      Map<TopicPartition, Long> offsets = new HashMap<>();
      admin
          .listConsumerGroupOffsets(group)
          .partitionsToOffsetAndMetadata()
          .get()
          .forEach((tp, o) -> offsets.put(tp, o.offset()));
      return offsets;
    }
  }

  /**
   * The sum of {@code group}'s committed offsets: on topics that start at offset 0, the number of
   * records it has committed.
   */
  long committedRecords(String group) throws Exception {
    return committedOffsets(group).values().stream().mapToLong(Long::longValue).sum();
  }

  /** An admin client of the broker; the caller closes it. */
  Admin admin() {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()));
  }

  /**
   * Everything the checkpoints topic holds now, read from its beginning to its end offset as a
   * {@code read_committed} consumer sees it.
   */
  CheckpointTopicContents readCheckpoints() {
    Map<String, Object> props =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrapServers(),
            ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            "read_committed",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            false);
    List<SaeCheckpoint> manifests = new ArrayList<>();
    Map<String, byte[]> chunks = new HashMap<>();
    try (KafkaConsumer<String, SpecificRecord> consumer =
        new KafkaConsumer<>(
            props, new StringDeserializer(), new CheckpointRecordDeserializer(registry))) {
      consumer.assign(List.of(checkpoints));
      consumer.seekToBeginning(List.of(checkpoints));
      long end = consumer.endOffsets(List.of(checkpoints)).getOrDefault(checkpoints, 0L);
      while (consumer.position(checkpoints) < end) {
        for (ConsumerRecord<String, SpecificRecord> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.value() instanceof SaeCheckpoint m) {
            manifests.add(m);
          } else if (r.value() instanceof SaeCheckpointChunk c) {
            byte[] data = new byte[c.getData().remaining()];
            c.getData().duplicate().get(data);
            chunks.put(CheckpointTopicContents.chunkKey(c.getVersion(), c.getIndex()), data);
          }
        }
      }
    }
    return new CheckpointTopicContents(manifests, chunks);
  }

  /** The manifests on the checkpoints topic, in offset order. */
  List<SaeCheckpoint> manifests() {
    return readCheckpoints().manifests();
  }

  /** Stops the registry and the broker. */
  @Override
  public void close() {
    try {
      registryServer.close();
    } finally {
      kafka.close();
    }
  }
}
