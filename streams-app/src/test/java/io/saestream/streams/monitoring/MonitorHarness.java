package io.saestream.streams.monitoring;

import io.saestream.schema.serde.AvroSerdeConfig;
import io.saestream.schema.serde.SpecificAvroDeserializer;
import io.saestream.schema.serde.SpecificAvroSerializer;
import io.saestream.schema.testing.InMemorySchemaRegistryClient;
import io.saestream.schema.v1.FeatureAlert;
import io.saestream.schema.v1.FeatureBatch;
import io.saestream.schema.v1.ReconstructionStats;
import io.saestream.streams.config.MonitoringSettings;
import io.saestream.streams.errors.DeadLetterDeserializationExceptionHandler;
import io.saestream.streams.monitoring.rules.RuleBook;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.jspecify.annotations.Nullable;

/**
 * The monitoring sub-topologies alone in a {@link TopologyTestDriver}: a feed node stands in for
 * analyze and forwards hand-built {@link AnalyzedBatch}es, so tests choose every latent value
 * exactly. The driver pipes the per-sequence monitor's summaries through the aggregates topic to
 * the per-SAE monitor, as the broker does; tests may also pipe summaries into that topic directly
 * (as if from other input partitions). Window grace is zero unless a test sets it.
 */
final class MonitorHarness implements AutoCloseable {

  static final String SAE = "sae-a";

  /** The dead-letter topic. */
  static final String DEAD_LETTERS = "monitor-dlq";

  static final String INPUT = "test-batches";
  static final long T0 = Instant.parse("2025-01-01T00:00:00Z").toEpochMilli();
  static final Instant NOW = Instant.parse("2025-01-02T00:00:00Z");
  static final int D_SAE = 16;

  final RuleBook rules = new RuleBook();
  final RecentAlerts recent = new RecentAlerts(50);
  final TopologyTestDriver driver;
  final TestOutputTopic<String, FeatureAlert> alerts;
  final TestInputTopic<String, String> rulesTopic;
  final TestInputTopic<String, BatchSummary> aggregatesTopic;
  private final TestInputTopic<String, String> input;
  private final Map<String, AnalyzedBatch> pending = Collections.synchronizedMap(new HashMap<>());
  private final AtomicInteger ids = new AtomicInteger();
  final MonitoringSettings settings;

  MonitorHarness(Path stateDir) {
    this(stateDir, MonitoringSettings.defaults().withEnabled(true).withWindowGrace(Duration.ZERO));
  }

  MonitorHarness(Path stateDir, MonitoringSettings settings) {
    this.settings = settings;
    InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    Topology topology = new Topology();
    topology.addSource("feed-source", new StringDeserializer(), new StringDeserializer(), INPUT);
    topology.addProcessor("feed", () -> new Feed(pending), "feed-source");
    MonitoringTopology.addTo(
        topology,
        "feed",
        new MonitoringTopology.Wiring(
            settings,
            new SpecificAvroSerializer<FeatureAlert>(registry, AvroSerdeConfig.forValues()),
            rules,
            recent),
        Clock.fixed(NOW, ZoneOffset.UTC));
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "monitor-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG, "true");
    // As the app configures it (StreamsAppConfig): undecodable records become dead letters.
    props.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, DEAD_LETTERS);
    props.put(
        StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
        DeadLetterDeserializationExceptionHandler.class.getName());
    driver = new TopologyTestDriver(topology, props);
    input = driver.createInputTopic(INPUT, new StringSerializer(), new StringSerializer());
    rulesTopic =
        driver.createInputTopic(
            settings.rulesTopic(), new StringSerializer(), new StringSerializer());
    aggregatesTopic =
        driver.createInputTopic(
            settings.aggregatesTopic(), new StringSerializer(), BatchSummary.serde().serializer());
    alerts =
        driver.createOutputTopic(
            settings.alertsTopic(),
            new StringDeserializer(),
            new SpecificAvroDeserializer<>(registry, FeatureAlert.class));
  }

  /** Sends one batch at event time {@code timestamp}. */
  void send(AnalyzedBatch batch, long timestamp) {
    String id = "b" + ids.incrementAndGet();
    pending.put(id, batch);
    input.pipeInput(batch.features().getSequenceId(), id, timestamp);
  }

  List<FeatureAlert> readAlerts() {
    List<FeatureAlert> out = new ArrayList<>();
    alerts.readValuesToList().forEach(out::add);
    return out;
  }

  /** The driver's stores, for {@link LatentStats} and {@link MonitoringQueries}. */
  MonitoringStores stores() {
    return new MonitoringStores() {
      @Override
      public <V> ReadOnlyKeyValueStore<String, V> store(String name) {
        KeyValueStore<String, V> store = driver.getKeyValueStore(name);
        if (store == null) {
          throw new IllegalArgumentException("no store " + name);
        }
        return store;
      }
    };
  }

  @Override
  public void close() {
    driver.close();
  }

  /**
   * A batch of {@code activations.length} tokens; {@code activations[t]} maps latent → value (only
   * non-zero latents).
   */
  @SafeVarargs
  static AnalyzedBatch batch(
      String sequenceId, @Nullable List<String> tokens, Map<Integer, Float>... activations) {
    return batch(sequenceId, tokens, 0.1f, 0.1f, activations);
  }

  /** A batch with a given FVU and per-token relative error. */
  @SafeVarargs
  static AnalyzedBatch batch(
      String sequenceId,
      @Nullable List<String> tokens,
      float fvu,
      float relativeError,
      Map<Integer, Float>... activations) {
    return batch(sequenceId, D_SAE, tokens, fvu, relativeError, activations);
  }

  /** A batch of an SAE of width {@code dSae}. */
  @SafeVarargs
  static AnalyzedBatch batch(
      String sequenceId,
      int dSae,
      @Nullable List<String> tokens,
      float fvu,
      float relativeError,
      Map<Integer, Float>... activations) {
    int n = activations.length;
    List<Integer> offsets = new ArrayList<>();
    List<Integer> indices = new ArrayList<>();
    List<Float> values = new ArrayList<>();
    List<Float> perToken = new ArrayList<>();
    List<Float> cos = new ArrayList<>();
    List<Integer> l0 = new ArrayList<>();
    offsets.add(0);
    for (Map<Integer, Float> row : activations) {
      row.entrySet().stream()
          .sorted(Map.Entry.<Integer, Float>comparingByValue().reversed())
          .forEach(
              e -> {
                indices.add(e.getKey());
                values.add(e.getValue());
              });
      offsets.add(indices.size());
      perToken.add(relativeError);
      cos.add(0.9f);
      l0.add(row.size());
    }
    FeatureBatch f =
        FeatureBatch.newBuilder()
            .setModelId("model")
            .setHookName("blocks.0.hook_resid_post")
            .setSequenceId(sequenceId)
            .setStartPosition(100)
            .setNTokens(n)
            .setSaeId(SAE)
            .setSaeVersion(7)
            .setDSae(dSae)
            .setRowOffsets(offsets)
            .setLatentIndices(indices)
            .setLatentValues(values)
            .setSourceTopic("in")
            .setSourcePartition(0)
            .setSourceOffset(0)
            .setProducedAt(NOW)
            .build();
    ReconstructionStats s =
        ReconstructionStats.newBuilder()
            .setModelId("model")
            .setHookName("blocks.0.hook_resid_post")
            .setSequenceId(sequenceId)
            .setStartPosition(100)
            .setNTokens(n)
            .setSaeId(SAE)
            .setSaeVersion(7)
            .setSse(perToken)
            .setRelativeError(perToken)
            .setCosine(cos)
            .setL0(l0)
            .setFvu(fvu)
            .setMeanL0(1.0)
            .setProducedAt(NOW)
            .build();
    return new AnalyzedBatch(f, s, tokens);
  }

  /** {@code n} tokens on which only {@code latent} fires, with {@code value}. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static Map<Integer, Float>[] tokens(int n, int latent, float value) {
    Map<Integer, Float>[] rows = new Map[n];
    for (int i = 0; i < n; i++) {
      rows[i] = Map.of(latent, value);
    }
    return rows;
  }

  static Duration minutes(long m) {
    return Duration.ofMinutes(m);
  }

  /** Stands in for analyze: forwards the batch registered under the record's value. */
  private static final class Feed implements Processor<String, String, String, AnalyzedBatch> {
    private final Map<String, AnalyzedBatch> pending;
    private @Nullable ProcessorContext<String, AnalyzedBatch> context;

    Feed(Map<String, AnalyzedBatch> pending) {
      this.pending = pending;
    }

    @Override
    public void init(ProcessorContext<String, AnalyzedBatch> context) {
      this.context = context;
    }

    @Override
    public void process(Record<String, String> record) {
      AnalyzedBatch b = pending.remove(record.value());
      if (b == null || context == null) {
        throw new IllegalStateException("unknown batch " + record.value());
      }
      context.forward(record.withValue(b), MonitoringTopology.MONITOR);
    }
  }
}
