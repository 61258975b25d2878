package io.saestream.streams.swap;

import io.saestream.schema.checkpoint.AssembledCheckpoint;
import io.saestream.schema.checkpoint.AssemblyOutcome;
import io.saestream.schema.checkpoint.CheckpointAssembler;
import io.saestream.schema.checkpoint.CheckpointRecordDeserializer;
import io.saestream.schema.checkpoint.CheckpointRejection;
import io.saestream.schema.checkpoint.RejectionReason;
import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryException;
import io.saestream.schema.v1.SaeCheckpoint;
import io.saestream.schema.v1.SaeCheckpointChunk;
import io.saestream.streams.config.CheckpointSettings;
import io.saestream.streams.config.KafkaSettings;
import io.saestream.streams.config.StreamsAppConfig;
import io.saestream.streams.registry.DeployedSae;
import io.saestream.streams.registry.SaeLoader;
import io.saestream.streams.registry.SaeRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the checkpoints topic and hot-swaps newer versions of the deployed SAEs.
 *
 * <p>It owns a plain {@link KafkaConsumer} (no consumer group: it assigns itself every partition
 * and reads from the beginning, so a restarted app re-learns the latest version from the compacted
 * topic), reading committed records only. Records of SAEs that are not deployed here are skipped;
 * the rest go to a {@link CheckpointAssembler} (manifest fields, chunk and payload digests,
 * signature when a key is configured, bounded memory). Each complete checkpoint goes at once to the
 * {@link CheckpointSwapper} (archive, weights, shapes, compatibility, ONNX Runtime session and
 * smoke inference) and is swapped into the {@link SaeRegistry}; versions not above the one served
 * are ignored. Swapping every complete version in turn, rather than only the newest, means that
 * after a restart a refused newest version still leaves the newest good one serving. A refused
 * checkpoint leaves the old model serving, is logged in one WARN line and counted in {@link
 * CheckpointMetrics}. Versions whose chunks are still missing once the consumer has caught up with
 * the topic are refused after {@link CheckpointSettings#assemblyTimeout()}.
 *
 * <p>Lifetime and threads: {@link #start} starts one daemon thread that does all the work (the
 * consumer, the assembler and the swapper are confined to it), so session building never runs on a
 * stream thread. A schema registry outage is retried from the same record; other unexpected
 * failures are logged at ERROR and retried after a pause. {@link #close()} stops the thread
 * (waiting for a swap in progress) and must come before the registry and the engine are closed.
 * Thread-safe.
 */
public final class CheckpointFollower implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(CheckpointFollower.class);

  private static final AtomicInteger INSTANCES = new AtomicInteger();
  private static final Duration POLL_TIMEOUT = Duration.ofMillis(200);
  private static final Duration RETRY_PAUSE = Duration.ofSeconds(1);
  private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration PARTITION_REFRESH = Duration.ofSeconds(30);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(60);

  private final String topic;
  private final String clientId;
  private final Consumer<String, byte[]> consumer;
  private final CheckpointRecordDeserializer deserializer;
  private final SaeRegistry registry;
  private final CheckpointAssembler assembler;
  private final CheckpointSwapper swapper;
  private final CheckpointMetrics metrics;
  private final Set<String> deployedIds;
  private final Clock clock;
  private final Thread thread;
  private final CountDownLatch stopRequested = new CountDownLatch(1);
  private final AtomicBoolean closed = new AtomicBoolean();

  // Confined to the follower thread.
  private Set<TopicPartition> assigned = Set.of();
  private long nextPartitionRefresh;
  private boolean waitingLogged;

  CheckpointFollower(
      Consumer<String, byte[]> consumer,
      String clientId,
      CheckpointSettings settings,
      StreamsAppConfig config,
      SchemaRegistryClient registryClient,
      SaeRegistry registry,
      SaeLoader loader,
      Clock clock,
      Path workDir) {
    this.consumer = Objects.requireNonNull(consumer, "consumer");
    this.clientId = Objects.requireNonNull(clientId, "clientId");
    this.topic = settings.topic();
    this.registry = Objects.requireNonNull(registry, "registry");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.deserializer = new CheckpointRecordDeserializer(registryClient);
    this.assembler = new CheckpointAssembler(settings.assemblerLimits(), settings.hmacKey(), clock);
    this.swapper =
        new CheckpointSwapper(
            registry, loader, config.deployments(), settings.maxPayloadSize(), workDir);
    this.deployedIds = new HashSet<>();
    for (DeployedSae sae : registry.deployed()) {
      deployedIds.add(sae.saeId());
      assembler.markServing(sae.saeId(), sae.version());
    }
    this.metrics = new CheckpointMetrics(clientId, registry);
    this.thread = new Thread(this::run, clientId);
    thread.setDaemon(true);
  }

  /**
   * Starts following {@code config.checkpoints().topic()} for the SAEs of {@code registry}, with a
   * consumer built from {@code config.kafka()}.
   *
   * @param registryClient resolves the records' schemas (not owned)
   * @param registry the SAEs served; swapped in place (not owned)
   * @param loader builds sessions for new versions
   */
  public static CheckpointFollower start(
      StreamsAppConfig config,
      SchemaRegistryClient registryClient,
      SaeRegistry registry,
      SaeLoader loader) {
    String clientId =
        config.kafka().applicationId() + "-checkpoint-follower-" + INSTANCES.incrementAndGet();
    KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(
            consumerConfig(config.kafka(), clientId),
            new StringDeserializer(),
            new ByteArrayDeserializer());
    CheckpointFollower follower;
    try {
      follower =
          new CheckpointFollower(
              consumer,
              clientId,
              config.checkpoints(),
              config,
              registryClient,
              registry,
              loader,
              Clock.systemUTC(),
              Path.of(System.getProperty("java.io.tmpdir")));
    } catch (RuntimeException e) {
      consumer.close();
      throw e;
    }
    follower.startThread();
    LOG.info(
        "Following checkpoints on {} for SAE(s) {} ({})",
        config.checkpoints().topic(),
        new TreeSet<>(follower.deployedIds),
        config.checkpoints().hmacKey() == null
            ? "signatures not checked"
            : "signed checkpoints only");
    return follower;
  }

  /**
   * The follower's consumer settings: the passthrough Kafka properties that are consumer settings
   * (security, client tuning; {@code consumer.}-prefixed ones win), then the fixed ones: no group,
   * read committed, from the earliest offset, no topic auto-creation.
   */
  static Map<String, Object> consumerConfig(KafkaSettings kafka, String clientId) {
    Map<String, Object> props = new HashMap<>();
    Set<String> consumerKeys = ConsumerConfig.configNames();
    String prefix = "consumer.";
    for (Map.Entry<String, String> e : kafka.properties().entrySet()) {
      if (consumerKeys.contains(e.getKey())) {
        props.putIfAbsent(e.getKey(), e.getValue());
      }
    }
    for (Map.Entry<String, String> e : kafka.properties().entrySet()) {
      String key = e.getKey();
      if (key.startsWith(prefix) && consumerKeys.contains(key.substring(prefix.length()))) {
        props.put(key.substring(prefix.length()), e.getValue());
      }
    }
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    props.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    return props;
  }

  /** Starts the follower thread; once. */
  void startThread() {
    thread.start();
  }

  /** The hot-swap metrics. */
  public CheckpointMetrics metrics() {
    return metrics;
  }

  /** Stops the thread, waiting for a swap in progress, and closes the consumer. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    stopRequested.countDown();
    consumer.wakeup();
    try {
      thread.join(CLOSE_TIMEOUT.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (thread.isAlive()) {
      LOG.warn("Checkpoint follower {} did not stop within {}", clientId, CLOSE_TIMEOUT);
    }
    metrics.close();
  }

  private void run() {
    try {
      while (stopRequested.getCount() > 0) {
        try {
          step();
        } catch (WakeupException e) {
          LOG.debug("Checkpoint follower woken up to stop", e);
        } catch (RuntimeException e) {
          // Hot swap must not die quietly: say so loudly, keep the old models, try again.
          LOG.error(
              "Checkpoint follower {} failed on {}; the deployed SAEs keep serving, retrying in {}",
              clientId,
              topic,
              RETRY_PAUSE,
              e);
          pause(RETRY_PAUSE);
        }
      }
    } finally {
      consumer.close();
      LOG.debug("Checkpoint follower {} stopped", clientId);
    }
  }

  private void step() {
    if (assigned.isEmpty() || clock.millis() >= nextPartitionRefresh) {
      refreshAssignment();
    }
    if (assigned.isEmpty()) {
      pause(RETRY_PAUSE);
      return;
    }
    ConsumerRecords<String, byte[]> records = consumer.poll(POLL_TIMEOUT);
    boolean registryDown = false;
    for (TopicPartition partition : records.partitions()) {
      for (ConsumerRecord<String, byte[]> record : records.records(partition)) {
        try {
          handle(record);
        } catch (SchemaRegistryException e) {
          // Infrastructure, not bad data: read this record again once the registry answers.
          LOG.warn(
              "Schema registry failed on checkpoint record {}-{}@{}; retrying in {}: {}",
              record.topic(),
              record.partition(),
              record.offset(),
              RETRY_PAUSE,
              e.getMessage());
          consumer.seek(partition, record.offset());
          registryDown = true;
          break;
        }
      }
    }
    if (caughtUp()) {
      for (CheckpointRejection rejection : assembler.expireIncomplete()) {
        reject(
            rejection.reason().tagValue(),
            rejection.saeId(),
            rejection.version(),
            rejection.detail());
      }
    }
    if (registryDown) {
      pause(RETRY_PAUSE);
    }
  }

  private void handle(ConsumerRecord<String, byte[]> record) {
    byte[] value = record.value();
    if (value == null) {
      return; // A tombstone of a superseded chunk: nothing to assemble.
    }
    SpecificRecord decoded;
    try {
      decoded = deserializer.deserialize(record.topic(), value);
    } catch (SerializationException e) {
      metrics.recordRejected(RejectionReason.MALFORMED_RECORD.tagValue());
      LOG.warn(
          "Rejected checkpoint record {}-{}@{} with key '{}' ({}): {}",
          record.topic(),
          record.partition(),
          record.offset(),
          record.key(),
          RejectionReason.MALFORMED_RECORD.tagValue(),
          e.getMessage());
      return;
    }
    if (decoded == null) {
      return;
    }
    String saeId =
        decoded instanceof SaeCheckpoint m
            ? m.getSaeId()
            : ((SaeCheckpointChunk) decoded).getSaeId();
    if (!deployedIds.contains(saeId)) {
      LOG.trace("Skipping a checkpoint record of SAE {}, not deployed here", saeId);
      return;
    }
    AssemblyOutcome outcome = assembler.offer(decoded);
    if (outcome instanceof AssemblyOutcome.Completed completed) {
      swap(completed.checkpoint());
    } else if (outcome instanceof AssemblyOutcome.Rejected rejected) {
      CheckpointRejection r = rejected.rejection();
      reject(r.reason().tagValue(), r.saeId(), r.version(), r.detail());
    } else if (outcome instanceof AssemblyOutcome.Ignored ignored) {
      LOG.debug("Ignoring a checkpoint record of {}: {}", saeId, ignored.why());
    }
  }

  private void swap(AssembledCheckpoint checkpoint) {
    String id = checkpoint.saeId();
    long start = System.nanoTime();
    try {
      DeployedSae replaced = swapper.swap(checkpoint);
      metrics.recordSwap(id);
      LOG.info(
          "Hot-swapped SAE {} v{} -> v{} ({} bytes, sha256 {}) in {} ms",
          id,
          replaced.version(),
          checkpoint.version(),
          checkpoint.payloadSize(),
          checkpoint.payloadSha256(),
          (System.nanoTime() - start) / 1_000_000);
    } catch (CheckpointRefusedException e) {
      reject(e.reasonTag(), id, checkpoint.version(), String.valueOf(e.getMessage()));
    }
  }

  /** One WARN line per refused checkpoint, and the metric. */
  private void reject(String reasonTag, String saeId, long version, String detail) {
    metrics.recordRejected(reasonTag);
    long serving = registry.find(saeId).map(DeployedSae::version).orElse(-1L);
    LOG.warn(
        "Rejected checkpoint {} v{} ({}): {}; {}",
        saeId,
        version,
        reasonTag,
        detail,
        serving >= 0 ? "still serving v" + serving : "not deployed here");
  }

  private boolean caughtUp() {
    for (TopicPartition partition : assigned) {
      OptionalLong lag = consumer.currentLag(partition);
      if (lag.isEmpty() || lag.getAsLong() > 0) {
        return false;
      }
    }
    return true;
  }

  private void refreshAssignment() {
    List<PartitionInfo> infos;
    try {
      infos = consumer.partitionsFor(topic, METADATA_TIMEOUT);
    } catch (TimeoutException e) {
      LOG.debug("No metadata for {} yet", topic, e);
      infos = List.of();
    }
    if (infos.isEmpty()) {
      if (!waitingLogged) {
        LOG.info("Checkpoints topic {} does not exist yet; waiting for it", topic);
        waitingLogged = true;
      }
      nextPartitionRefresh = clock.millis();
      return;
    }
    nextPartitionRefresh = clock.millis() + PARTITION_REFRESH.toMillis();
    Set<TopicPartition> all =
        infos.stream()
            .map(p -> new TopicPartition(p.topic(), p.partition()))
            .collect(Collectors.toSet());
    if (all.equals(assigned)) {
      return;
    }
    Set<TopicPartition> added = new HashSet<>(all);
    added.removeAll(assigned);
    consumer.assign(all);
    consumer.seekToBeginning(added);
    assigned = Set.copyOf(all);
    LOG.info("Reading checkpoints from {} partition(s) of {}", all.size(), topic);
  }

  private void pause(Duration duration) {
    try {
      if (stopRequested.await(duration.toMillis(), TimeUnit.MILLISECONDS)) {
        LOG.trace("Pause cut short: stopping");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stopRequested.countDown();
    }
  }
}
