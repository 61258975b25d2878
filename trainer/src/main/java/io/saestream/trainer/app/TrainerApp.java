package io.saestream.trainer.app;

import io.saestream.schema.checkpoint.CheckpointPublishException;
import io.saestream.schema.checkpoint.CheckpointPublisher;
import io.saestream.schema.checkpoint.PublishedCheckpoint;
import io.saestream.schema.checkpoint.PublisherSettings;
import io.saestream.schema.registry.RestSchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryClientConfig;
import io.saestream.schema.serde.SpecificAvroDeserializer;
import io.saestream.schema.v1.ActivationBatch;
import io.saestream.trainer.config.SaeTrainerConfig;
import io.saestream.trainer.config.StateSettings;
import io.saestream.trainer.config.TrainerConfig;
import io.saestream.trainer.publish.CheckpointSink;
import io.saestream.trainer.publish.SnapshotPublisher;
import io.saestream.trainer.state.DurableState;
import io.saestream.trainer.state.StateStore;
import io.saestream.trainer.state.StateWriter;
import io.saestream.trainer.training.SaeTrainer;
import io.saestream.trainer.training.TrainerSnapshot;
import io.saestream.trainer.training.TrainerState;
import io.saestream.trainer.training.TrainingSettings;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.avro.AvroRuntimeException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sidecar trainer process: consumes {@code ActivationBatch} records in its own consumer group
 * (read_committed, manual commits), routes their rows by (model_id, hook_name) to one {@link
 * SaeTrainer} per configured SAE, and publishes every SAE as a new checkpoint version when one is
 * due ({@code publish-every-tokens} trained tokens or {@code publish-every} elapsed) and on
 * shutdown.
 *
 * <p>Durable state ({@code state.dir}, see {@link StateStore}): at every publication round,
 * whenever an SAE has taken {@code state.every-steps} steps since the last save, and on shutdown,
 * the loop copies every trainer's full state ({@link SaeTrainer#state()}: weights, Adam moments,
 * step, dead-latent counters, scale estimate, mixing buffer, evaluation window) together with the
 * consumed positions and the last version handed out, between two records, and a {@link
 * StateWriter} saves it on its own thread. On start the newest intact generation is loaded (a
 * damaged one is reported and the previous one used), every trainer resumes from it, and each
 * partition is sought to the position saved with it rather than to the group's committed offset:
 * offsets and weights must move together (see {@link DurableState}), so every record is learned
 * from once across a crash, even a {@code kill -9}. The first version published after a restart is
 * above both the state's last version and the newest one on the checkpoints topic (the state may be
 * older than the last publication).
 *
 * <p>Offsets and publications: a publication round snapshots every SAE that trained since its last
 * version, records the consumed positions, and commits them only once every publication of the
 * round is committed to the checkpoints topic; a completed state save commits its positions too
 * (commits only move forward). Without a state directory a crash therefore re-reads what no
 * published version learned from and restarts from fresh weights (the rows that were still in the
 * mixing buffers are lost: online training tolerates that); the committed offsets are then the
 * resume point.
 *
 * <p>Bad records never stop the trainer: undecodable, unknown (model, hook), wrong d_in, bad shape
 * and non-finite records are skipped, counted per {@link SkipReason} and logged at most once per
 * {@code runtime.skip-log-every}. Kafka, registry and publication failures fail {@link #run()}.
 *
 * <p>Ownership and lifetime: owns its consumer, trainers, snapshot publishers, state writer and the
 * checkpoint sink's publisher. {@link #run()} runs the loop on the caller's thread until {@link
 * #shutdown()}; {@link #close()} shuts down, waits for the loop and releases everything. {@link
 * #shutdown()}, {@link #close()} and the counters are thread-safe; {@link #run()} may be called
 * once.
 */
public final class TrainerApp implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TrainerApp.class);
  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);

  private final TrainerConfig config;
  private final Consumer<String, byte[]> consumer;
  private final SpecificAvroDeserializer<ActivationBatch> deserializer;
  private final List<AutoCloseable> owned = new ArrayList<>();
  private final Map<String, List<Route>> routes = new HashMap<>();
  private final List<Route> all = new ArrayList<>();
  private final Clock clock;
  private final Map<SkipReason, AtomicLong> skipped = new EnumMap<>(SkipReason.class);
  private final AtomicLong recordsTrained = new AtomicLong();
  private final List<PublishedCheckpoint> published = new CopyOnWriteArrayList<>();
  private final AtomicBoolean stopping = new AtomicBoolean();
  private final AtomicBoolean started = new AtomicBoolean();
  private final CountDownLatch finished = new CountDownLatch(1);
  private final Map<TopicPartition, Long> consumed = new HashMap<>();
  private final Map<TopicPartition, Long> committedHere = new HashMap<>();
  private final Map<TopicPartition, Long> resumePositions = new HashMap<>();
  private final StateSettings stateSettings;
  private final @Nullable StateWriter stateWriter;
  private final OptionalLong resumedFrom;
  private final AtomicLong lastSavedGeneration = new AtomicLong(-1);
  private @Nullable CompletableFuture<StateWriter.Saved> saveInFlight;
  private boolean saveRequested;
  private boolean changedSinceSave;
  private @Nullable Round round;
  private float[] rows = new float[0];

  /** One SAE: its trainer, its publisher and its cadence. Used by the loop thread only. */
  private static final class Route {
    final SaeTrainerConfig config;
    final SaeTrainer trainer;
    final SnapshotPublisher publisher;
    long tokensAtLastPublish;
    long stepAtLastPublish;
    long stepAtLastSave;
    Instant lastPublish;

    /**
     * Whether these weights may be published on shutdown before the cadence is reached: once a
     * version was published by this process, or when they continue a durable state from which a
     * version was published (so they only improve on what consumers are serving).
     */
    boolean publishable;

    Route(SaeTrainerConfig config, SaeTrainer trainer, SnapshotPublisher publisher, Instant now) {
      this.config = config;
      this.trainer = trainer;
      this.publisher = publisher;
      this.lastPublish = now;
    }

    boolean trainedSincePublish() {
      return trainer.step() > stepAtLastPublish;
    }

    boolean due(Instant now) {
      return trainedSincePublish()
          && (trainer.tokensTrained() - tokensAtLastPublish >= config.publishEveryTokens()
              || !now.isBefore(lastPublish.plus(config.publishEvery())));
    }
  }

  /**
   * A publication round in flight.
   *
   * @param futures one per SAE published
   * @param offsets the positions to commit once all complete
   */
  private record Round(
      List<CompletableFuture<PublishedCheckpoint>> futures,
      Map<TopicPartition, OffsetAndMetadata> offsets) {}

  /**
   * Connects to Kafka and the registry, learns the last published versions and opens one trainer
   * per SAE; nothing is consumed until {@link #run()}.
   *
   * @throws RuntimeException when Kafka, the registry or a trainer cannot be set up (everything
   *     opened so far is closed)
   */
  public static TrainerApp create(TrainerConfig config) {
    SchemaRegistryClient registry =
        new RestSchemaRegistryClient(SchemaRegistryClientConfig.of(config.registryUrls()));
    Map<String, Object> common = new HashMap<>(config.kafka().properties());
    common.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafka().bootstrapServers());
    Map<String, Object> producerConfig = new HashMap<>(common);
    producerConfig.put(ProducerConfig.CLIENT_ID_CONFIG, config.kafka().groupId() + "-checkpoints");
    Map<String, CheckpointVersions.Latest> latest =
        CheckpointVersions.read(common, config.topics().checkpoints(), registry, STARTUP_TIMEOUT);
    PublisherSettings settings =
        PublisherSettings.defaults()
            .withTopic(config.topics().checkpoints())
            .withSigningKey(config.signingKey());
    // One transactional id per trainer group: a second instance of the same group fences the
    // first one's publisher, matching the group protocol's one-active-owner semantics.
    CheckpointPublisher publisher =
        CheckpointPublisher.create(
            producerConfig, config.kafka().groupId() + "-checkpoints", registry, settings);
    Map<String, Long> firstVersions = new HashMap<>();
    latest.forEach(
        (saeId, l) -> {
          publisher.resumeAfter(l.manifest(), l.partition());
          firstVersions.put(saeId, l.manifest().getVersion() + 1);
        });
    Map<String, Object> consumerConfig = new HashMap<>(common);
    consumerConfig.put(ConsumerConfig.GROUP_ID_CONFIG, config.kafka().groupId());
    consumerConfig.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    KafkaConsumer<String, byte[]> consumer;
    try {
      consumer =
          new KafkaConsumer<>(
              withConsumerDefaults(consumerConfig),
              new StringDeserializer(),
              new ByteArrayDeserializer());
    } catch (RuntimeException e) {
      publisher.close();
      throw e;
    }
    StateStore store;
    try {
      Path dir = config.state().dir();
      store = dir == null ? null : StateStore.open(dir, config.state().keep());
    } catch (RuntimeException e) {
      consumer.close();
      publisher.close();
      throw e;
    }
    return new TrainerApp(
        config,
        consumer,
        registry,
        publisher::publish,
        publisher,
        firstVersions,
        store,
        Clock.systemUTC());
  }

  /**
   * {@link #TrainerApp(TrainerConfig, Consumer, SchemaRegistryClient, CheckpointSink,
   * AutoCloseable, Map, StateStore, Clock)} without a state store.
   */
  TrainerApp(
      TrainerConfig config,
      Consumer<String, byte[]> consumer,
      SchemaRegistryClient registry,
      CheckpointSink sink,
      @Nullable AutoCloseable sinkResource,
      Map<String, Long> firstVersions,
      Clock clock) {
    this(config, consumer, registry, sink, sinkResource, firstVersions, null, clock);
  }

  /**
   * Assembles an app from its parts (tests inject a sink and a consumer) and, given a state store,
   * resumes every trainer from its newest intact generation.
   *
   * @param sinkResource closed with the app (the sink's publisher), or null
   * @param firstVersions the first version to publish per sae_id as the checkpoints topic implies
   *     (its newest + 1); absent ids start at 1. A resumed SAE starts above its saved last version
   *     if that is higher.
   * @param store the state directory, or null for none
   * @throws io.saestream.trainer.state.IncompatibleStateException when the saved state does not fit
   *     the configured SAEs
   */
  TrainerApp(
      TrainerConfig config,
      Consumer<String, byte[]> consumer,
      SchemaRegistryClient registry,
      CheckpointSink sink,
      @Nullable AutoCloseable sinkResource,
      Map<String, Long> firstVersions,
      @Nullable StateStore store,
      Clock clock) {
    this.config = Objects.requireNonNull(config, "config");
    this.consumer = Objects.requireNonNull(consumer, "consumer");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.stateSettings = config.state();
    this.deserializer = new SpecificAvroDeserializer<>(registry, ActivationBatch.class);
    for (SkipReason r : SkipReason.values()) {
      skipped.put(r, new AtomicLong());
    }
    owned.add(consumer);
    if (sinkResource != null) {
      owned.add(sinkResource);
    }
    try {
      Optional<StateStore.Loaded> restored = Optional.empty();
      if (store != null) {
        Map<String, TrainingSettings> settings = new LinkedHashMap<>();
        for (SaeTrainerConfig sae : config.trainers()) {
          settings.put(sae.saeId(), sae.trainingSettings(config.runtime()));
        }
        restored = store.loadNewest(settings);
        this.stateWriter = new StateWriter(store);
        owned.add(stateWriter);
        if (restored.isEmpty()) {
          LOG.info("no durable state in {} yet: training starts from fresh weights", store.dir());
        }
      } else {
        this.stateWriter = null;
        LOG.info(
            "no state.dir configured: a restarted trainer starts from fresh weights and re-reads"
                + " what no published version learned from");
      }
      this.resumedFrom =
          restored.map(l -> OptionalLong.of(l.generation())).orElse(OptionalLong.empty());
      for (SaeTrainerConfig sae : config.trainers()) {
        SaeTrainer trainer = new SaeTrainer(sae.saeId(), sae.trainingSettings(config.runtime()));
        owned.add(trainer);
        long firstVersion = firstVersions.getOrDefault(sae.saeId(), 1L);
        DurableState.SaeState saved =
            restored.map(l -> l.state().saes().get(sae.saeId())).orElse(null);
        if (saved != null) {
          trainer.resume(saved.state());
          long fromTopic = firstVersion;
          firstVersion = Math.max(fromTopic, saved.lastVersion() + 1);
          LOG.info(
              "SAE {}: resumed from state generation {} (step {}, {} tokens trained, {} buffered);"
                  + " last version in the state v{}, next after the checkpoints topic v{}",
              sae.saeId(),
              restored.get().generation(),
              trainer.step(),
              trainer.tokensTrained(),
              trainer.bufferedTokens(),
              saved.lastVersion(),
              fromTopic);
        } else if (restored.isPresent()) {
          LOG.warn(
              "SAE {}: not in state generation {}; training it from fresh weights",
              sae.saeId(),
              restored.get().generation());
        }
        SnapshotPublisher publisher =
            new SnapshotPublisher(
                sae.saeId(), sae.modelId(), sae.hookName(), sink, sae.outputDir(), firstVersion);
        owned.add(publisher);
        Route route = new Route(sae, trainer, publisher, clock.instant());
        route.stepAtLastPublish = trainer.step();
        route.stepAtLastSave = trainer.step();
        route.tokensAtLastPublish = trainer.tokensTrained();
        route.publishable = saved != null && saved.lastVersion() > 0;
        all.add(route);
        routes
            .computeIfAbsent(routeKey(sae.modelId(), sae.hookName()), k -> new ArrayList<>())
            .add(route);
        LOG.info(
            "SAE {}: training on {} / {} (d_in {}, d_sae {}, k {}, {}), first version v{}",
            sae.saeId(),
            sae.modelId(),
            sae.hookName(),
            sae.dIn(),
            sae.dSae(),
            sae.k(),
            sae.rule(),
            publisher.nextVersion());
      }
      restored.ifPresent(l -> resumePositions.putAll(l.state().positions()));
    } catch (RuntimeException e) {
      closeOwned(e);
      throw e;
    }
  }

  private static Map<String, Object> withConsumerDefaults(Map<String, Object> config) {
    Map<String, Object> c = new HashMap<>(config);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    return c;
  }

  private static String routeKey(String modelId, String hookName) {
    return modelId + '\u0000' + hookName;
  }

  /**
   * Consumes, trains and publishes until {@link #shutdown()}; then publishes every SAE that trained
   * since its last version, commits and returns.
   *
   * @throws CheckpointPublishException when a publication fails
   * @throws IllegalStateException when called twice
   */
  public void run() {
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("run() may be called once");
    }
    try {
      consumer.subscribe(List.of(config.topics().activations()), new RevocationLog());
      while (!stopping.get()) {
        ConsumerRecords<String, byte[]> records;
        try {
          records = consumer.poll(config.runtime().pollTimeout());
        } catch (WakeupException e) {
          if (stopping.get()) {
            break;
          }
          throw e;
        }
        for (ConsumerRecord<String, byte[]> r : records) {
          process(r);
          consumed.put(new TopicPartition(r.topic(), r.partition()), r.offset() + 1);
          changedSinceSave = true;
        }
        completeRound(false);
        completeSave(false);
        Instant now = clock.instant();
        if (round == null && all.stream().anyMatch(route -> route.due(now))) {
          startRound(now, false);
        }
        if (stateWriter != null && !stateWriter.busy() && saveDue()) {
          saveState(captureStates());
        }
      }
      completeRound(true);
      startRound(clock.instant(), true);
      completeRound(true);
      if (stateWriter != null) {
        completeSave(true);
        if (changedSinceSave || saveRequested) {
          saveState(captureStates());
          completeSave(true);
        }
      }
    } finally {
      finished.countDown();
    }
  }

  /** Asks {@link #run()} to finish: it publishes, commits and returns. Thread-safe. */
  public void shutdown() {
    if (stopping.compareAndSet(false, true)) {
      consumer.wakeup();
    }
  }

  /**
   * Waits up to {@code timeout} for {@link #run()} to return (a shutdown hook calls it so that the
   * final publication completes before the JVM exits).
   *
   * @return whether it returned (true also when it never started)
   */
  public boolean awaitStopped(Duration timeout) throws InterruptedException {
    return !started.get() || finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Records skipped for {@code reason} so far. Thread-safe. */
  public long skipped(SkipReason reason) {
    return counter(reason).get();
  }

  private AtomicLong counter(SkipReason reason) {
    return Objects.requireNonNull(skipped.get(reason), "every reason has a counter");
  }

  /** Records whose rows went to a trainer so far. Thread-safe. */
  public long recordsTrained() {
    return recordsTrained.get();
  }

  /** The checkpoints published so far, in order. Thread-safe. */
  public List<PublishedCheckpoint> published() {
    return List.copyOf(published);
  }

  /** The state generation this app resumed from, empty when it started from fresh weights. */
  public OptionalLong resumedFrom() {
    return resumedFrom;
  }

  /** The last state generation saved by this app, -1 before the first. Thread-safe. */
  public long lastSavedGeneration() {
    return lastSavedGeneration.get();
  }

  /** Shuts down, waits up to five minutes for {@link #run()} to finish, and closes everything. */
  @Override
  public void close() {
    shutdown();
    if (started.get()) {
      try {
        if (!finished.await(5, TimeUnit.MINUTES)) {
          LOG.warn("the training loop did not finish within 5 minutes; closing anyway");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    RuntimeException failure = new IllegalStateException("closing the trainer failed");
    closeOwned(failure);
    if (failure.getSuppressed().length > 0) {
      throw failure;
    }
  }

  private void closeOwned(RuntimeException into) {
    for (int i = owned.size() - 1; i >= 0; i--) {
      try {
        owned.get(i).close();
      } catch (Exception e) {
        into.addSuppressed(e);
      }
    }
    owned.clear();
  }

  private void process(ConsumerRecord<String, byte[]> r) {
    ActivationBatch batch;
    try {
      batch = deserializer.deserialize(r.topic(), r.value());
    } catch (SerializationException | AvroRuntimeException e) {
      skip(SkipReason.UNDECODABLE, r, e.toString());
      return;
    }
    if (batch == null) {
      skip(SkipReason.UNDECODABLE, r, "record has no value (tombstone)");
      return;
    }
    List<Route> targets = routes.get(routeKey(batch.getModelId(), batch.getHookName()));
    if (targets == null) {
      skip(
          SkipReason.UNKNOWN_ROUTE,
          r,
          "no trainer for model " + batch.getModelId() + ", hook " + batch.getHookName());
      return;
    }
    int dIn = batch.getDIn();
    int expected = targets.get(0).config.dIn();
    if (dIn != expected) {
      skip(SkipReason.D_IN_MISMATCH, r, "d_in " + dIn + ", the trainer expects " + expected);
      return;
    }
    int tokens = batch.getNTokens();
    ByteBuffer data = batch.getData();
    long values = (long) tokens * dIn;
    if (tokens <= 0
        || values > Integer.MAX_VALUE
        || data.remaining() != values * ActivationRows.bytesPer(batch.getDtype())) {
      skip(
          SkipReason.BAD_SHAPE,
          r,
          "n_tokens "
              + tokens
              + " × d_in "
              + dIn
              + " of "
              + batch.getDtype()
              + " does not match "
              + data.remaining()
              + " data bytes");
      return;
    }
    if (rows.length < values) {
      rows = new float[(int) values];
    }
    if (!ActivationRows.decode(batch.getDtype(), data, (int) values, rows)) {
      skip(SkipReason.NON_FINITE, r, "data holds NaN or infinite values");
      return;
    }
    for (Route route : targets) {
      if (route.config.dIn() != dIn) {
        skip(SkipReason.D_IN_MISMATCH, r, "d_in " + dIn + ", SAE " + route.config.saeId());
        continue;
      }
      route.trainer.offer(rows, 0, tokens);
    }
    recordsTrained.incrementAndGet();
  }

  private void skip(SkipReason reason, ConsumerRecord<String, byte[]> r, String why) {
    long n = counter(reason).incrementAndGet();
    if (n == 1 || n % config.runtime().skipLogEvery() == 0) {
      LOG.warn(
          "skipped {} record(s) as {} so far; latest: {}-{}@{}: {}",
          n,
          reason,
          r.topic(),
          r.partition(),
          r.offset(),
          why);
    }
  }

  /**
   * Publishes every SAE that trained since its last version. On shutdown, an SAE that has not yet
   * reached its first cadence point in this process and does not continue a durable state is left
   * out: its weights are young, and a version from a few steps of training would replace a better
   * one that consumers are serving (without a state directory its records stay uncommitted and are
   * re-read; with one, its state is saved and a restarted trainer continues it).
   *
   * <p>With a state directory and no save in flight, the full states are copied once, published
   * from and saved, so that a publication costs the training thread one copy.
   */
  private void startRound(Instant now, boolean shutdown) {
    List<Route> publishing = new ArrayList<>();
    for (Route route : all) {
      if (!route.trainedSincePublish()) {
        continue;
      }
      if (shutdown && !route.publishable && !route.due(now)) {
        LOG.warn(
            "SAE {}: not publishing on shutdown after only {} trained tokens (publish-every-tokens"
                + " {}); {}",
            route.config.saeId(),
            route.trainer.tokensTrained(),
            route.config.publishEveryTokens(),
            stateWriter != null
                ? "its state is saved and a restarted trainer continues it"
                : "its records will be re-read");
        continue;
      }
      publishing.add(route);
    }
    if (publishing.isEmpty()) {
      // Nothing trained since the last version, so nothing would be lost by committing.
      round = null;
      return;
    }
    for (Route route : publishing) {
      // Before the states are copied: the version carries this window as its evaluation, and a
      // resumed trainer starts the next window exactly as this one does.
      route.trainer.resetEvaluation();
    }
    Map<Route, TrainerState> states =
        stateWriter != null && !stateWriter.busy() ? captureStates() : null;
    List<CompletableFuture<PublishedCheckpoint>> futures = new ArrayList<>();
    for (Route route : publishing) {
      route.publishable = true;
      TrainerState state = states == null ? null : states.get(route);
      TrainerSnapshot snapshot = state != null ? state.snapshot() : route.trainer.snapshot(false);
      futures.add(route.publisher.publish(snapshot));
      route.stepAtLastPublish = route.trainer.step();
      route.tokensAtLastPublish = route.trainer.tokensTrained();
      route.lastPublish = now;
    }
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    consumed.forEach((tp, next) -> offsets.put(tp, new OffsetAndMetadata(next)));
    round = new Round(futures, offsets);
    if (states != null) {
      saveState(states);
    } else if (stateWriter != null) {
      // A save is in flight: the next loop turn saves once it has completed.
      saveRequested = true;
    }
  }

  private boolean saveDue() {
    if (saveRequested) {
      return true;
    }
    for (Route route : all) {
      if (route.trainer.step() - route.stepAtLastSave >= stateSettings.everySteps()) {
        return true;
      }
    }
    return false;
  }

  /** Copies every trainer's full state (between two records). */
  private Map<Route, TrainerState> captureStates() {
    Map<Route, TrainerState> states = new HashMap<>();
    for (Route route : all) {
      states.put(route, route.trainer.state());
    }
    return states;
  }

  /**
   * Hands the states, the consumed positions and the versions handed out so far to the writer.
   * Called between two records, so that the positions are exactly those whose rows the states hold;
   * a version handed out by the publication round that took the same states counts as handed out,
   * so a resumed trainer never reuses it even if that publication did not land.
   */
  private void saveState(Map<Route, TrainerState> states) {
    StateWriter writer = Objects.requireNonNull(stateWriter, "stateWriter");
    Map<String, DurableState.SaeState> saes = new LinkedHashMap<>();
    for (Route route : all) {
      TrainerState state = Objects.requireNonNull(states.get(route), "a state per route");
      saes.put(
          route.config.saeId(),
          new DurableState.SaeState(state, route.publisher.nextVersion() - 1));
      route.stepAtLastSave = state.snapshot().step();
    }
    saveInFlight = writer.save(new DurableState(clock.instant(), consumed, saes));
    saveRequested = false;
    changedSinceSave = false;
  }

  /** Commits the positions of the save in flight once it completed; with {@code wait}, waits. */
  private void completeSave(boolean wait) {
    CompletableFuture<StateWriter.Saved> f = saveInFlight;
    if (f == null || (!wait && !f.isDone())) {
      return;
    }
    saveInFlight = null;
    StateWriter.Saved saved = await(f, "a state save");
    lastSavedGeneration.set(saved.generation());
    LOG.debug("state generation {} saved at {}", saved.generation(), saved.state().positions());
    commit(saved.state().positions());
  }

  /**
   * Commits {@code positions} for the partitions still assigned where they are ahead of what this
   * app committed: a publication round and a state save both commit, and the later of two may carry
   * the older positions.
   */
  private void commit(Map<TopicPartition, Long> positions) {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    java.util.Set<TopicPartition> assigned = consumer.assignment();
    positions.forEach(
        (tp, next) -> {
          if (assigned.contains(tp) && next > committedHere.getOrDefault(tp, -1L)) {
            offsets.put(tp, new OffsetAndMetadata(next));
          }
        });
    if (offsets.isEmpty()) {
      return;
    }
    consumer.commitSync(offsets);
    offsets.forEach((tp, o) -> committedHere.put(tp, o.offset()));
    LOG.debug("committed {}", offsets);
  }

  /** Commits the round in flight once it completed; with {@code wait}, waits for it. */
  private void completeRound(boolean wait) {
    Round r = round;
    if (r == null) {
      return;
    }
    if (!wait && !r.futures().stream().allMatch(CompletableFuture::isDone)) {
      return;
    }
    round = null;
    for (CompletableFuture<PublishedCheckpoint> f : r.futures()) {
      published.add(await(f, "a publication"));
    }
    Map<TopicPartition, Long> positions = new HashMap<>();
    r.offsets().forEach((tp, o) -> positions.put(tp, o.offset()));
    commit(positions);
  }

  /**
   * The result of background work {@code what}, waiting for it: its own runtime exception is
   * rethrown as is, anything else wrapped.
   */
  private static <T> T await(CompletableFuture<T> f, String what) {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for " + what, e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(what + " failed: " + cause, cause);
    }
  }

  /** Logs revocations: positions not yet committed are re-read by the next owner. */
  private final class RevocationLog implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      if (!partitions.isEmpty()) {
        LOG.info("partitions revoked: {}; uncommitted records will be re-read", partitions);
      }
      partitions.forEach(consumed::remove);
      partitions.forEach(committedHere::remove);
      Round r = round;
      if (r != null) {
        r.offsets().keySet().removeAll(partitions);
      }
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      LOG.info("partitions assigned: {}", partitions);
      for (TopicPartition tp : partitions) {
        Long position = resumePositions.remove(tp);
        if (position != null) {
          // The saved position, not the committed offset: it is where the state's rows end.
          consumer.seek(tp, position);
          consumed.put(tp, position);
          LOG.info("{}: resuming at offset {}, where the durable state was taken", tp, position);
        }
      }
    }
  }
}
