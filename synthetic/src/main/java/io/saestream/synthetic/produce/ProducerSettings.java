package io.saestream.synthetic.produce;

import io.saestream.schema.registry.SchemaRegistryClientConfig;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * Where and how a {@link SyntheticProducer} writes. The Kafka producer is always idempotent with
 * {@code acks=all}, so retries never duplicate or reorder records.
 *
 * <p>Large records: 256 tokens × d_in 4096 in F32 is 4 MiB of data per record. {@link
 * #maxRequestSizeBytes()} (default 8 MiB) lets the producer send such records, but the broker
 * refuses any batch larger than the topic's {@code max.message.bytes} (broker default {@code
 * message.max.bytes}, about 1 MiB), so create the topic with {@code max.message.bytes} at least as
 * large, e.g. {@code kafka-topics.sh --create --topic sae.activations.v1 --config
 * max.message.bytes=8388608}; consumers fetch oversized batches anyway.
 *
 * @param bootstrapServers Kafka {@code bootstrap.servers}
 * @param registry the schema registry that the value serializer registers the schema with
 * @param topic the topic to write, normally {@code sae.activations.v1}
 * @param linger how long the producer waits to fill a batch ({@code linger.ms})
 * @param batchSizeBytes upper bound of a per-partition batch ({@code batch.size})
 * @param maxRequestSizeBytes upper bound of one request, and so of one record ({@code
 *     max.request.size})
 * @param compressionType {@code none}, {@code gzip}, {@code snappy}, {@code lz4} or {@code zstd}
 * @param clientId the producer's {@code client.id}
 * @param extraProperties further producer settings (security, timeouts), applied last
 */
public record ProducerSettings(
    String bootstrapServers,
    SchemaRegistryClientConfig registry,
    String topic,
    Duration linger,
    int batchSizeBytes,
    int maxRequestSizeBytes,
    String compressionType,
    String clientId,
    Map<String, String> extraProperties) {

  /** The topic of activations in the wire contract. */
  public static final String DEFAULT_TOPIC = "sae.activations.v1";

  /** Default {@link #linger()}. */
  public static final Duration DEFAULT_LINGER = Duration.ofMillis(5);

  /** Default {@link #batchSizeBytes()}: 1 MiB. */
  public static final int DEFAULT_BATCH_SIZE_BYTES = 1 << 20;

  /** Default {@link #maxRequestSizeBytes()}: 8 MiB, twice a 256 × 4096 F32 record. */
  public static final int DEFAULT_MAX_REQUEST_SIZE_BYTES = 8 << 20;

  private static final Set<String> COMPRESSION_TYPES =
      Set.of("none", "gzip", "snappy", "lz4", "zstd");
  private static final Set<String> RESERVED =
      Set.of(
          ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG);

  /** Validates every field and copies the extra properties. */
  public ProducerSettings {
    Objects.requireNonNull(bootstrapServers, "bootstrapServers");
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(linger, "linger");
    Objects.requireNonNull(compressionType, "compressionType");
    Objects.requireNonNull(clientId, "clientId");
    if (bootstrapServers.isBlank()) {
      throw new IllegalArgumentException("bootstrap servers must not be blank");
    }
    if (topic.isBlank()) {
      throw new IllegalArgumentException("topic must not be blank");
    }
    if (linger.isNegative() || linger.toMillis() > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("linger must be in [0, 2^31) ms, was " + linger);
    }
    if (batchSizeBytes < 0) {
      throw new IllegalArgumentException("batch size must be >= 0 bytes, was " + batchSizeBytes);
    }
    if (maxRequestSizeBytes <= 0) {
      throw new IllegalArgumentException(
          "max request size must be > 0 bytes, was " + maxRequestSizeBytes);
    }
    compressionType = compressionType.toLowerCase(Locale.ROOT);
    if (!COMPRESSION_TYPES.contains(compressionType)) {
      throw new IllegalArgumentException(
          "compression must be one of "
              + new TreeSet<>(COMPRESSION_TYPES)
              + ", was '"
              + compressionType
              + "'");
    }
    for (String key : extraProperties.keySet()) {
      if (RESERVED.contains(key)) {
        throw new IllegalArgumentException(
            "producer property '" + key + "' is fixed by sae-stream and cannot be set");
      }
    }
    extraProperties = Map.copyOf(extraProperties);
  }

  /** Defaults for {@code bootstrapServers} and the registry at {@code registryUrl}. */
  public static ProducerSettings defaults(String bootstrapServers, String registryUrl) {
    return new ProducerSettings(
        bootstrapServers,
        SchemaRegistryClientConfig.of(registryUrl),
        DEFAULT_TOPIC,
        DEFAULT_LINGER,
        DEFAULT_BATCH_SIZE_BYTES,
        DEFAULT_MAX_REQUEST_SIZE_BYTES,
        "none",
        "sae-stream-synthetic",
        Map.of());
  }

  /** A copy writing to another topic. */
  public ProducerSettings withTopic(String newTopic) {
    return new ProducerSettings(
        bootstrapServers,
        registry,
        newTopic,
        linger,
        batchSizeBytes,
        maxRequestSizeBytes,
        compressionType,
        clientId,
        extraProperties);
  }

  /** A copy with other extra producer properties. */
  public ProducerSettings withExtraProperties(Map<String, String> properties) {
    return new ProducerSettings(
        bootstrapServers,
        registry,
        topic,
        linger,
        batchSizeBytes,
        maxRequestSizeBytes,
        compressionType,
        clientId,
        properties);
  }

  /** The Kafka producer configuration these settings stand for (serializers are passed apart). */
  public Map<String, Object> toKafkaProperties() {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, (int) linger.toMillis());
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, batchSizeBytes);
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, maxRequestSizeBytes);
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compressionType);
    // The buffer must hold a few maximal records or send() blocks on every large one.
    p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Math.max(32L << 20, 4L * maxRequestSizeBytes));
    p.putAll(extraProperties);
    return p;
  }
}
