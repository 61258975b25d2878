package io.saestream.schema.checkpoint;

import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.v1.SaeCheckpoint;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes SAE checkpoints to the checkpoints topic: each {@link #publish} is one Kafka
 * transaction holding the payload's chunks (streamed from its {@link PayloadSource}, at most {@link
 * PublisherSettings#chunkSize()} bytes each, with their SHA-256), then the manifest (payload size
 * and SHA-256, optional HMAC signature), then tombstones for every chunk of the version it
 * supersedes. Keys and partitioning are those of {@link CheckpointKeys}.
 *
 * <p>Versions must increase per sae_id. The publisher remembers what it published; a new publisher
 * (a restarted trainer) learns the version on the topic with {@link #resumeAfter} so that it
 * refuses stale versions and tombstones the right chunks.
 *
 * <p>Ownership: owns its transactional producer, initialises its transactions on construction and
 * closes it in {@link #close()}. A second publisher with the same transactional id fences this one
 * (the group protocol makes one trainer per sae_id active; the fenced one fails with a {@link
 * CheckpointPublishException#fatal() fatal} exception). Thread-safe: calls are serialised.
 */
public final class CheckpointPublisher implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(CheckpointPublisher.class);

  private final Producer<String, SpecificRecord> producer;
  private final PublisherSettings settings;
  private final Map<String, PublishedCheckpoint> published = new HashMap<>();
  private boolean closed;

  /**
   * Takes ownership of {@code producer}, which must be configured with a {@code transactional.id}
   * and not yet have initialised transactions, and initialises them (which fences older producers
   * with the same id and aborts their open transaction).
   */
  public CheckpointPublisher(
      Producer<String, SpecificRecord> producer, PublisherSettings settings) {
    this.producer = Objects.requireNonNull(producer, "producer");
    this.settings = Objects.requireNonNull(settings, "settings");
    try {
      producer.initTransactions();
    } catch (RuntimeException e) {
      producer.close();
      throw e;
    }
  }

  /**
   * Creates a publisher on a new transactional, idempotent {@link KafkaProducer} built from {@code
   * producerConfig} (bootstrap servers, security settings...) with {@code transactionalId}, writing
   * Confluent-wire-format records with schemas registered in {@code registry} (not owned).
   */
  public static CheckpointPublisher create(
      Map<String, Object> producerConfig,
      String transactionalId,
      SchemaRegistryClient registry,
      PublisherSettings settings) {
    Objects.requireNonNull(producerConfig, "producerConfig");
    Objects.requireNonNull(transactionalId, "transactionalId");
    if (transactionalId.isBlank()) {
      throw new IllegalArgumentException("transactionalId must not be blank");
    }
    Map<String, Object> config = new HashMap<>(producerConfig);
    config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    KafkaProducer<String, SpecificRecord> producer =
        new KafkaProducer<>(
            config, new StringSerializer(), new CheckpointRecordSerializer(registry, true));
    return new CheckpointPublisher(producer, settings);
  }

  /**
   * Tells this publisher that {@code manifest}, found on the topic at {@code partition}, is the
   * latest version of its SAE: later versions must be greater, and publishing the next one
   * tombstones its chunks.
   */
  public synchronized void resumeAfter(SaeCheckpoint manifest, int partition) {
    Objects.requireNonNull(manifest, "manifest");
    PublishedCheckpoint known = published.get(manifest.getSaeId());
    if (known != null && known.version() >= manifest.getVersion()) {
      return;
    }
    published.put(
        manifest.getSaeId(),
        new PublishedCheckpoint(
            manifest.getSaeId(),
            manifest.getVersion(),
            manifest.getPayloadSha256(),
            manifest.getPayloadSize(),
            manifest.getChunkCount(),
            partition,
            0));
  }

  /** The last version this publisher published or resumed after for {@code saeId}. */
  public synchronized Optional<PublishedCheckpoint> lastPublished(String saeId) {
    return Optional.ofNullable(published.get(saeId));
  }

  /**
   * Publishes {@code release} in one transaction and returns once it is committed.
   *
   * @throws IllegalArgumentException when the version is not greater than the last one published
   *     for the SAE, or the payload's size differs from what its source declared
   * @throws CheckpointPublishException when Kafka fails the transaction or the payload cannot be
   *     read; the transaction is aborted
   * @throws IllegalStateException when the publisher is closed
   */
  public synchronized PublishedCheckpoint publish(CheckpointRelease release) {
    Objects.requireNonNull(release, "release");
    if (closed) {
      throw new IllegalStateException("checkpoint publisher is closed");
    }
    String saeId = release.saeId();
    PublishedCheckpoint previous = published.get(saeId);
    if (previous != null && release.version() <= previous.version()) {
      throw new IllegalArgumentException(
          "version must be greater than "
              + previous.version()
              + ", the last version published for "
              + saeId
              + ", was "
              + release.version());
    }
    String topic = settings.topic();
    int partition = CheckpointKeys.partitionFor(saeId, partitionCount(topic));
    long size = release.payload().size();
    int chunkSize = settings.chunkSize();
    int count = CheckpointRecords.chunkCount(size, chunkSize);
    long start = System.nanoTime();
    producer.beginTransaction();
    PublishedCheckpoint result;
    try {
      String sha256 = sendChunks(release, topic, partition, size, count);
      SaeCheckpoint manifest =
          CheckpointRecords.manifest(
              release, sha256, size, chunkSize, settings.signingKey(), settings.clock().instant());
      send(new ProducerRecord<>(topic, partition, CheckpointKeys.manifestKey(saeId), manifest));
      int tombstones = 0;
      if (previous != null) {
        for (int i = 0; i < previous.chunkCount(); i++) {
          send(
              new ProducerRecord<>(
                  topic,
                  previous.partition(),
                  CheckpointKeys.chunkKey(saeId, previous.version(), i),
                  null));
          tombstones++;
        }
      }
      producer.commitTransaction();
      result =
          new PublishedCheckpoint(
              saeId, release.version(), sha256, size, count, partition, tombstones);
    } catch (ProducerFencedException
        | OutOfOrderSequenceException
        | AuthorizationException
        | UnsupportedVersionException e) {
      closed = true;
      producer.close();
      throw new CheckpointPublishException(
          "cannot publish "
              + saeId
              + " v"
              + release.version()
              + ": the producer can no longer be used ("
              + e
              + "); the publisher is closed",
          true,
          e);
    } catch (KafkaException e) {
      abort(e);
      throw new CheckpointPublishException(
          "cannot publish " + saeId + " v" + release.version() + ": " + e, closed, e);
    } catch (IOException e) {
      abort(e);
      throw new CheckpointPublishException(
          "cannot publish "
              + saeId
              + " v"
              + release.version()
              + ": reading the payload failed: "
              + e,
          closed,
          e);
    } catch (RuntimeException e) {
      abort(e);
      throw e;
    }
    published.put(saeId, result);
    LOG.info(
        "Published checkpoint {} v{}: {} bytes in {} chunk(s), sha256 {}, partition {} of {},"
            + " {} superseded chunk(s) tombstoned, {}, in {} ms",
        saeId,
        release.version(),
        size,
        count,
        result.payloadSha256(),
        partition,
        topic,
        result.tombstones(),
        settings.signingKey() == null ? "unsigned" : "signed",
        (System.nanoTime() - start) / 1_000_000);
    return result;
  }

  /** Closes the producer (aborting nothing: no transaction is open between calls). Idempotent. */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      producer.close();
    }
  }

  private String sendChunks(
      CheckpointRelease release, String topic, int partition, long size, int count)
      throws IOException {
    String saeId = release.saeId();
    MessageDigest whole = Sha256.newDigest();
    long read = 0;
    try (InputStream in = release.payload().open()) {
      for (int i = 0; i < count; i++) {
        int expected = (int) Math.min(settings.chunkSize(), size - read);
        // A fresh array per chunk: the producer may hold the record until it is serialised.
        byte[] data = in.readNBytes(expected);
        if (data.length < expected) {
          throw new IllegalArgumentException(
              "payload ended after "
                  + (read + data.length)
                  + " bytes, its source declared "
                  + size);
        }
        whole.update(data);
        read += data.length;
        send(
            new ProducerRecord<>(
                topic,
                partition,
                CheckpointKeys.chunkKey(saeId, release.version(), i),
                CheckpointRecords.chunk(saeId, release.version(), i, count, data)));
      }
      if (in.read() >= 0) {
        throw new IllegalArgumentException(
            "payload is longer than the " + size + " bytes its source declared");
      }
    }
    return Sha256.hex(whole);
  }

  // commitTransaction() flushes and fails when any send of the transaction failed, so the futures
  // carry nothing the commit does not already report.
  @SuppressWarnings("FutureReturnValueIgnored")
  private void send(ProducerRecord<String, @Nullable SpecificRecord> record) {
    producer.send(record);
  }

  private int partitionCount(String topic) {
    List<PartitionInfo> partitions;
    try {
      partitions = producer.partitionsFor(topic);
    } catch (KafkaException e) {
      throw new CheckpointPublishException(
          "cannot read the partitions of " + topic + " (does it exist?): " + e, false, e);
    }
    if (partitions == null || partitions.isEmpty()) {
      throw new CheckpointPublishException(
          "topic " + topic + " does not exist; create it (compacted, see CheckpointTopic)",
          false,
          new IllegalStateException("no partitions for " + topic));
    }
    return partitions.size();
  }

  private void abort(Exception cause) {
    try {
      producer.abortTransaction();
    } catch (RuntimeException e) {
      cause.addSuppressed(e);
      closed = true;
      producer.close();
    }
  }
}
