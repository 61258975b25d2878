package io.saestream.embedded.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Clients against the shared embedded broker; every test uses its own topics. */
class EmbeddedKafkaBrokerIT {

  @RegisterExtension static final EmbeddedKafkaExtension KAFKA = EmbeddedKafkaExtension.shared();

  private static final Duration RECEIVE_TIMEOUT = Duration.ofSeconds(20);

  @Test
  void producedRecordsAreConsumedFromACreatedTopic(EmbeddedKafkaBroker broker) throws Exception {
    broker.createTopic("it.plain", 3);

    try (KafkaProducer<String, String> producer = producer(broker, Map.of())) {
      for (int i = 0; i < 10; i++) {
        producer.send(new ProducerRecord<>("it.plain", "key-" + i, "value-" + i)).get();
      }
    }

    List<ConsumerRecord<String, String>> received =
        consumeAtLeast(broker, "it.plain", IsolationLevel.READ_UNCOMMITTED, 10);
    assertThat(received)
        .extracting(ConsumerRecord::key, ConsumerRecord::value)
        .hasSize(10)
        .containsExactlyInAnyOrderElementsOf(
            IntStream.range(0, 10).mapToObj(i -> tuple("key-" + i, "value-" + i)).toList());
    assertThat(received).extracting(ConsumerRecord::partition).allMatch(p -> p >= 0 && p < 3);
  }

  @Test
  void readCommittedConsumerSeesCommittedTransactionsButNotAbortedOnes(EmbeddedKafkaBroker broker)
      throws Exception {
    broker.createTopic("it.tx", 1);

    try (KafkaProducer<String, String> producer =
        producer(broker, Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "it-tx-producer"))) {
      producer.initTransactions();
      producer.beginTransaction();
      send(producer, "it.tx", "committed-1", "committed-2");
      producer.commitTransaction();
      producer.beginTransaction();
      send(producer, "it.tx", "aborted");
      producer.abortTransaction();
      producer.beginTransaction();
      send(producer, "it.tx", "committed-3");
      producer.commitTransaction();
    }

    assertThat(consumeAtLeast(broker, "it.tx", IsolationLevel.READ_COMMITTED, 3))
        .extracting(ConsumerRecord::value)
        .containsExactly("committed-1", "committed-2", "committed-3");
    // The aborted record did reach the log: only the isolation level hides it.
    assertThat(consumeAtLeast(broker, "it.tx", IsolationLevel.READ_UNCOMMITTED, 4))
        .extracting(ConsumerRecord::value)
        .containsExactly("committed-1", "committed-2", "aborted", "committed-3");
  }

  @Test
  void compactedTopicHasTheCompactCleanupPolicy(EmbeddedKafkaBroker broker) throws Exception {
    broker.createCompactedTopic("it.compacted", 2);

    try (Admin admin = admin(broker)) {
      ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, "it.compacted");
      Config config =
          Objects.requireNonNull(admin.describeConfigs(Set.of(resource)).all().get().get(resource));
      TopicDescription description = describe(admin, "it.compacted");

      assertThat(config.get(TopicConfig.CLEANUP_POLICY_CONFIG).value())
          .isEqualTo(TopicConfig.CLEANUP_POLICY_COMPACT);
      assertThat(description.partitions()).hasSize(2);
    }
  }

  @Test
  void topicWithoutPartitionCountGetsTheBrokerDefault(EmbeddedKafkaBroker broker) throws Exception {
    broker.createTopic("it.default-partitions");

    try (Admin admin = admin(broker)) {
      TopicDescription description = describe(admin, "it.default-partitions");
      assertThat(description.partitions()).hasSize(broker.config().defaultPartitions());
    }
  }

  @Test
  void createTopicsMakesSeveralTopicsAtOnce(EmbeddedKafkaBroker broker) throws Exception {
    broker.createTopics(
        new NewTopic("it.many-a", 1, (short) 1), new NewTopic("it.many-b", 2, (short) 1));

    try (Admin admin = admin(broker)) {
      assertThat(admin.listTopics().names().get()).contains("it.many-a", "it.many-b");
    }
  }

  @Test
  void creatingAnExistingTopicFailsWithTopicExists(EmbeddedKafkaBroker broker) {
    broker.createTopic("it.twice", 1);

    assertThatThrownBy(() -> broker.createTopic("it.twice", 1))
        .isInstanceOf(TopicExistsException.class)
        .hasMessageContaining("it.twice");
  }

  @Test
  void createTopicRejectsNonPositivePartitionCounts(EmbeddedKafkaBroker broker) {
    assertThatThrownBy(() -> broker.createTopic("it.zero", 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("partitions must be > 0, was 0");
    assertThatThrownBy(() -> broker.createCompactedTopic("it.negative", -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("partitions must be > 0, was -1");
  }

  @Test
  void createTopicsRejectsReplicationAboveOneAndEmptyLists(EmbeddedKafkaBroker broker) {
    assertThatThrownBy(() -> broker.createTopics(new NewTopic("it.rf3", 1, (short) 3)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "replication factor of topic 'it.rf3' must be 1 on a single-node cluster, was 3");
    assertThatThrownBy(() -> broker.createTopics(List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("topics must not be empty");
  }

  @Test
  void topicsAreNotCreatedByProducingToThemByDefault(EmbeddedKafkaBroker broker) throws Exception {
    try (KafkaProducer<String, String> producer =
            producer(broker, Map.of(ProducerConfig.MAX_BLOCK_MS_CONFIG, 1500));
        Admin admin = admin(broker)) {
      assertThatThrownBy(() -> producer.send(new ProducerRecord<>("it.never-created", "v")).get())
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(org.apache.kafka.common.errors.TimeoutException.class)
          .hasMessageContaining("not present in metadata");
      assertThat(admin.listTopics().names().get()).doesNotContain("it.never-created");
    }
  }

  static KafkaProducer<String, String> producer(
      EmbeddedKafkaBroker broker, Map<String, Object> overrides) {
    Map<String, Object> props = new HashMap<>();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.putAll(overrides);
    return new KafkaProducer<>(props);
  }

  /** Sends each value and waits until the broker acknowledged it. */
  static void send(KafkaProducer<String, String> producer, String topic, String... values)
      throws ExecutionException, InterruptedException {
    for (String value : values) {
      producer.send(new ProducerRecord<>(topic, "k", value)).get();
    }
  }

  static TopicDescription describe(Admin admin, String topic)
      throws ExecutionException, InterruptedException {
    return Objects.requireNonNull(
        admin.describeTopics(Set.of(topic)).allTopicNames().get().get(topic));
  }

  static Admin admin(EmbeddedKafkaBroker broker) {
    return Admin.create(
        Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
  }

  /** Reads {@code topic} from the beginning until at least {@code count} records arrived. */
  static List<ConsumerRecord<String, String>> consumeAtLeast(
      EmbeddedKafkaBroker broker, String topic, IsolationLevel isolation, int count) {
    Map<String, Object> props =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            broker.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG,
            topic + "-" + isolation + "-" + System.nanoTime(),
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
            "earliest",
            ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            isolation.toString(),
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
            StringDeserializer.class,
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
            StringDeserializer.class);
    List<ConsumerRecord<String, String>> received = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
      consumer.subscribe(List.of(topic));
      await()
          .atMost(RECEIVE_TIMEOUT)
          .pollInSameThread() // KafkaConsumer is single-threaded
          .pollInterval(Duration.ZERO)
          .until(
              () -> {
                consumer.poll(Duration.ofMillis(200)).forEach(received::add);
                return received.size() >= count;
              });
    }
    return received;
  }
}
