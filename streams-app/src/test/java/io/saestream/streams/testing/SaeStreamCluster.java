package io.saestream.streams.testing;

import static org.awaitility.Awaitility.await;

import io.saestream.embedded.kafka.EmbeddedKafkaBroker;
import io.saestream.embedded.registry.EmbeddedSchemaRegistry;
import io.saestream.schema.registry.RestSchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryClientConfig;
import io.saestream.schema.serde.AvroSerdeConfig;
import io.saestream.schema.serde.SpecificAvroDeserializer;
import io.saestream.schema.serde.SpecificAvroSerializer;
import io.saestream.schema.v1.ActivationBatch;
import io.saestream.streams.StreamsApp;
import io.saestream.streams.config.CheckpointSettings;
import io.saestream.streams.config.HttpSettings;
import io.saestream.streams.config.InferenceSettings;
import io.saestream.streams.config.KafkaSettings;
import io.saestream.streams.config.MonitoringSettings;
import io.saestream.streams.config.SaeDeployment;
import io.saestream.streams.config.SchemaRegistrySettings;
import io.saestream.streams.config.StreamsAppConfig;
import io.saestream.streams.config.StreamsSettings;
import io.saestream.streams.config.TopicNames;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.jspecify.annotations.Nullable;

/**
 * A real Kafka broker and an in-JVM schema registry, with helpers to create the sae-stream topics,
 * start streams apps, produce activation batches and read outputs as a read-committed consumer.
 * Reusable by integration tests, interop tests and benchmarks. The broker is either an in-JVM one
 * that the cluster owns ({@link #start()}) or any broker reached by its bootstrap servers ({@link
 * #onBroker(String)}, e.g. a Testcontainers one, owned by the caller). Owns the registry; apps it
 * starts are closed by their callers (or by {@link #close()}).
 */
public final class SaeStreamCluster implements AutoCloseable {

  private static final Duration TOPIC_CREATION_TIMEOUT = Duration.ofSeconds(30);

  private final @Nullable EmbeddedKafkaBroker broker;
  private final String bootstrapServers;
  private final EmbeddedSchemaRegistry registry;
  private final SchemaRegistryClient registryClient;
  private final List<StreamsApp> apps = new ArrayList<>();

  private SaeStreamCluster(
      @Nullable EmbeddedKafkaBroker broker,
      String bootstrapServers,
      EmbeddedSchemaRegistry registry) {
    this.broker = broker;
    this.bootstrapServers = bootstrapServers;
    this.registry = registry;
    this.registryClient =
        new RestSchemaRegistryClient(SchemaRegistryClientConfig.of(List.of(registry.url())));
  }

  /** Starts a broker and a registry. */
  public static SaeStreamCluster start() {
    EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.withDefaults().start();
    try {
      return new SaeStreamCluster(
          broker, broker.bootstrapServers(), EmbeddedSchemaRegistry.start());
    } catch (RuntimeException e) {
      broker.close();
      throw e;
    }
  }

  /**
   * Starts a registry and uses the broker at {@code bootstrapServers}, which the caller owns and
   * must keep running until {@link #close()}.
   */
  public static SaeStreamCluster onBroker(String bootstrapServers) {
    return new SaeStreamCluster(null, bootstrapServers, EmbeddedSchemaRegistry.start());
  }

  /** The broker's bootstrap servers. */
  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The registry's base URL. */
  public URI registryUrl() {
    return registry.url();
  }

  /** A client of the embedded registry. */
  public SchemaRegistryClient registryClient() {
    return registryClient;
  }

  /** Topic names with a unique suffix, created with {@code partitions} activation partitions. */
  public TopicNames createTopics(String prefix, int partitions) {
    String suffix = "." + UUID.randomUUID().toString().substring(0, 8);
    TopicNames topics =
        new TopicNames(
            prefix + ".activations" + suffix,
            prefix + ".features" + suffix,
            prefix + ".reconstruction" + suffix,
            prefix + ".dlq" + suffix);
    createTopics(topics, partitions);
    return topics;
  }

  /**
   * Creates {@code topics} with {@code partitions} activation, feature and reconstruction
   * partitions and one dead-letter partition, and waits until every partition has a leader.
   */
  public void createTopics(TopicNames topics, int partitions) {
    createTopics(
        List.of(
            new NewTopic(topics.activations(), partitions, (short) 1),
            new NewTopic(topics.features(), partitions, (short) 1),
            new NewTopic(topics.reconstruction(), partitions, (short) 1),
            new NewTopic(topics.deadLetter(), 1, (short) 1)));
  }

  /** The monitoring app's alerts topic and its compacted rules topic. */
  public void createMonitoringTopics(String alerts, String rules) {
    createTopics(
        List.of(
            new NewTopic(alerts, 1, (short) 1),
            new NewTopic(rules, 1, (short) 1)
                .configs(
                    Map.of(
                        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT))));
  }

  /** Creates {@code newTopics} and waits until every partition has a leader. */
  public void createTopics(List<NewTopic> newTopics) {
    if (broker != null) {
      broker.createTopics(newTopics);
      return;
    }
    Set<String> names = newTopics.stream().map(NewTopic::name).collect(Collectors.toSet());
    try (Admin admin = Admin.create(adminProperties())) {
      admin
          .createTopics(newTopics)
          .all()
          .get(TOPIC_CREATION_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      await("leaders of " + names)
          .atMost(TOPIC_CREATION_TIMEOUT)
          .pollInterval(Duration.ofMillis(100))
          // Metadata may lag the creation for a moment.
          .ignoreExceptionsMatching(e -> e.getCause() instanceof UnknownTopicOrPartitionException)
          .until(
              () ->
                  admin.describeTopics(names).allTopicNames().get().values().stream()
                      .flatMap(d -> d.partitions().stream())
                      .allMatch(p -> p.leader() != null && !p.leader().isEmpty()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("creating topics " + names, e);
    }
  }

  /** A configuration for one app instance with fast commits and a short shutdown. */
  public StreamsAppConfig appConfig(
      String applicationId,
      TopicNames topics,
      Path stateDir,
      int threads,
      List<SaeDeployment> deployments) {
    return new StreamsAppConfig(
        new KafkaSettings(
            bootstrapServers(),
            applicationId,
            Map.of(
                // Fast failure detection and rebalances keep tests short.
                "consumer.session.timeout.ms", "10000",
                "consumer.heartbeat.interval.ms", "500")),
        new SchemaRegistrySettings(List.of(registry.url()), null, true),
        topics,
        new StreamsSettings(threads, 256, stateDir, Duration.ofMillis(100), Duration.ofSeconds(20)),
        InferenceSettings.defaults(),
        deployments,
        CheckpointSettings.defaults(),
        MonitoringSettings.defaults(),
        HttpSettings.defaults());
  }

  /** Starts an app (closed by {@link #close()} if the caller does not close it first). */
  public StreamsApp startApp(StreamsAppConfig config) {
    StreamsApp app = StreamsApp.start(config);
    apps.add(app);
    return app;
  }

  /** The wire bytes of {@code batch} for {@code topic}. */
  public byte[] encode(String topic, ActivationBatch batch) {
    byte[] bytes =
        new SpecificAvroSerializer<ActivationBatch>(registryClient, AvroSerdeConfig.forValues())
            .serialize(topic, batch);
    if (bytes == null) {
      throw new IllegalStateException("null serialization");
    }
    return bytes;
  }

  /** A byte producer with {@code acks=all}; the caller closes it. */
  public KafkaProducer<byte[], byte[]> newProducer() {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
  }

  /** Produces {@code records} and waits for every acknowledgement. */
  public void produce(Collection<ProducerRecord<byte[], byte[]>> records) {
    try (KafkaProducer<byte[], byte[]> producer = newProducer()) {
      List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
      for (ProducerRecord<byte[], byte[]> record : records) {
        sent.add(producer.send(record));
      }
      for (java.util.concurrent.Future<?> f : sent) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Offsets committed by consumer group {@code group} on {@code topic}, summed over partitions. */
  public long committedOffsets(String group, String topic) {
    try (Admin admin = Admin.create(adminProperties())) {
      Map<TopicPartition, OffsetAndMetadata> offsets =
          admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
      return offsets.entrySet().stream()
          .filter(e -> e.getKey().topic().equals(topic) && e.getValue() != null)
          .mapToLong(e -> e.getValue().offset())
          .sum();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Every committed record of {@code topic}, decoded as {@code type}, read to the end. */
  public <T extends SpecificRecord> List<ConsumerRecord<String, T>> readAll(
      String topic, Class<T> type) {
    List<ConsumerRecord<String, T>> out = new ArrayList<>();
    try (KafkaConsumer<String, T> consumer =
        new KafkaConsumer<>(
            readCommitted(),
            new StringDeserializer(),
            new SpecificAvroDeserializer<>(registryClient, type))) {
      readToEnd(consumer, topic, out);
    }
    return out;
  }

  /** Every committed record of {@code topic} as bytes, read to the end. */
  public List<ConsumerRecord<byte[], byte[]>> readAllBytes(String topic) {
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            readCommitted(), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      readToEnd(consumer, topic, out);
    }
    return out;
  }

  private Properties adminProperties() {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    return props;
  }

  private Properties readCommitted() {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    return props;
  }

  private static <K, V> void readToEnd(
      KafkaConsumer<K, V> consumer, String topic, List<ConsumerRecord<K, V>> out) {
    List<TopicPartition> partitions =
        consumer.partitionsFor(topic).stream()
            .map(p -> new TopicPartition(topic, p.partition()))
            .toList();
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    // Under read_committed the end offsets are the last stable offsets.
    Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (partitions.stream().anyMatch(p -> consumer.position(p) < end.getOrDefault(p, 0L))) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("could not read " + topic + " to its end " + end);
      }
      consumer.poll(Duration.ofMillis(200)).forEach(out::add);
    }
  }

  /** Closes the apps still open, the registry and the broker if this cluster started it. */
  @Override
  public void close() {
    for (StreamsApp app : apps) {
      app.close();
    }
    registry.close();
    if (broker != null) {
      broker.close();
    }
  }
}
