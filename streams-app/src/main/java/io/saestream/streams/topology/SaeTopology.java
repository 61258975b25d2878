package io.saestream.streams.topology;

import io.saestream.schema.v1.FeatureBatch;
import io.saestream.schema.v1.ReconstructionStats;
import io.saestream.streams.config.TopicNames;
import io.saestream.streams.monitoring.MonitoringTopology;
import io.saestream.streams.registry.SaeRegistry;
import io.saestream.streams.serde.ActivationBatchDecoder;
import java.time.Clock;
import java.util.Objects;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.jspecify.annotations.Nullable;

/**
 * The sae-stream topology, pure wiring from explicit inputs; the app and the tests build it the
 * same way.
 *
 * <pre>
 * activations-source ─▶ validate ─┬─▶ analyze ─┬─▶ features-sink        (FeatureBatch)
 *   (raw bytes)                   │            └─▶ reconstruction-sink  (ReconstructionStats)
 *                                 └─▶ dead-letter ─▶ dead-letter-sink   (original bytes + reason)
 * </pre>
 *
 * <p>{@code validate} decodes (Confluent wire format, registry lookup), checks the batch, looks up
 * the SAEs of its (model_id, hook_name) in the {@link SaeRegistry} and converts the activations to
 * float32; every failure becomes a dead letter with a {@link
 * io.saestream.streams.errors.DeadLetterReason}. {@code analyze} runs each SAE once per record.
 * Every node is named. Without monitoring the topology is stateless; with it, {@link
 * MonitoringTopology} adds the {@code monitor} node after {@code analyze} (alerts, statistics).
 */
public final class SaeTopology {

  /** Source node reading the activations topic as raw bytes. */
  public static final String SOURCE = "activations-source";

  /** Processor that decodes, validates and routes. */
  public static final String VALIDATE = "validate";

  /** Processor that runs the SAEs. */
  public static final String ANALYZE = "analyze";

  /** Processor that builds dead-letter records and counts them. */
  public static final String DEAD_LETTER = "dead-letter";

  /** Sink of FeatureBatch records. */
  public static final String FEATURES_SINK = "features-sink";

  /** Sink of ReconstructionStats records. */
  public static final String RECONSTRUCTION_SINK = "reconstruction-sink";

  /** Sink of dead letters. */
  public static final String DEAD_LETTER_SINK = "dead-letter-sink";

  private SaeTopology() {}

  /**
   * Builds the topology.
   *
   * @param topics the four topics
   * @param decoder decodes activation records (holds the registry client)
   * @param featureSerializer writes FeatureBatch values (Confluent wire format)
   * @param statsSerializer writes ReconstructionStats values
   * @param registry the SAEs to route to; the only way the topology reaches models
   * @param maxTokensPerRecord largest accepted n_tokens
   * @param clock source of {@code produced_at}
   */
  public static Topology build(
      TopicNames topics,
      ActivationBatchDecoder decoder,
      Serializer<FeatureBatch> featureSerializer,
      Serializer<ReconstructionStats> statsSerializer,
      SaeRegistry registry,
      int maxTokensPerRecord,
      Clock clock) {
    return build(
        topics,
        decoder,
        featureSerializer,
        statsSerializer,
        registry,
        maxTokensPerRecord,
        clock,
        null);
  }

  /**
   * Builds the topology, with alerting and latent statistics when {@code monitoring} is not null.
   *
   * @see #build(TopicNames, ActivationBatchDecoder, Serializer, Serializer, SaeRegistry, int,
   *     Clock)
   */
  public static Topology build(
      TopicNames topics,
      ActivationBatchDecoder decoder,
      Serializer<FeatureBatch> featureSerializer,
      Serializer<ReconstructionStats> statsSerializer,
      SaeRegistry registry,
      int maxTokensPerRecord,
      Clock clock,
      MonitoringTopology.@Nullable Wiring monitoring) {
    Objects.requireNonNull(topics, "topics");
    Objects.requireNonNull(decoder, "decoder");
    Objects.requireNonNull(featureSerializer, "featureSerializer");
    Objects.requireNonNull(statsSerializer, "statsSerializer");
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(clock, "clock");
    BatchValidator validator = new BatchValidator(maxTokensPerRecord);
    Topology topology = new Topology();
    topology.addSource(
        SOURCE, new ByteArrayDeserializer(), new ByteArrayDeserializer(), topics.activations());
    topology.addProcessor(
        VALIDATE,
        () -> new ValidateProcessor(topics.activations(), decoder, registry, validator),
        SOURCE);
    boolean monitored = monitoring != null;
    topology.addProcessor(ANALYZE, () -> new AnalyzeProcessor(clock, monitored), VALIDATE);
    topology.addProcessor(DEAD_LETTER, DeadLetterProcessor::new, VALIDATE);
    topology.addSink(
        FEATURES_SINK,
        topics.features(),
        new StringSerializer(),
        narrow(featureSerializer, FeatureBatch.class),
        ANALYZE);
    topology.addSink(
        RECONSTRUCTION_SINK,
        topics.reconstruction(),
        new StringSerializer(),
        narrow(statsSerializer, ReconstructionStats.class),
        ANALYZE);
    topology.addSink(
        DEAD_LETTER_SINK,
        topics.deadLetter(),
        new ByteArraySerializer(),
        new ByteArraySerializer(),
        DEAD_LETTER);
    if (monitoring != null) {
      MonitoringTopology.addTo(topology, ANALYZE, monitoring, clock);
    }
    return topology;
  }

  /**
   * The analyze node forwards both record types, each to its own sink; this checks the type at the
   * sink so that a wiring mistake fails loudly instead of writing the wrong schema.
   */
  private static <T extends SpecificRecord> Serializer<Object> narrow(
      Serializer<T> serializer, Class<T> type) {
    return new Serializer<>() {
      @Override
      public byte[] serialize(String topic, Object data) {
        return serializer.serialize(topic, type.cast(data));
      }

      @Override
      public void close() {
        serializer.close();
      }
    };
  }
}
