package io.saestream.trainer.app;

import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.serde.AvroSerdeConfig;
import io.saestream.schema.serde.SpecificAvroSerializer;
import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.Dtype;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Partition {@code acts-0} of Gaussian-noise activations (model {@code m}, hook {@code h}, d_in 8,
 * 32 tokens a record) served by a {@link MockConsumer}, and the small trainer that reads it, for
 * {@link TrainerApp} tests without a broker. Stateless; each consumer it builds belongs to the test
 * that asked for it, until the test hands it to an app.
 */
final class MockActivationTopic {

  /** The topic the consumer serves. */
  static final String TOPIC = "acts";

  /** Its one partition. */
  static final TopicPartition PARTITION = new TopicPartition(TOPIC, 0);

  /** Tokens in every record. */
  static final int TOKENS_PER_RECORD = 32;

  private static final String MODEL = "m";
  private static final String HOOK = "h";
  private static final int D_IN = 8;

  private MockActivationTopic() {}

  /**
   * SAE {@code saeId} on this topic: d_sae 16, k 2, batches of 32 from a 64-token buffer, at the
   * loader's default learning rate and warm-up. The checkpoints topic is never written: these tests
   * hand the app its own checkpoint sink.
   */
  static TrainerYaml trainer(String saeId) {
    return TrainerYaml.topK(saeId, MODEL, HOOK, D_IN, 16, 2)
        .training(32, 64, 2e-4, 1000)
        .pollTimeout("10ms")
        .topics(TOPIC, "unused.checkpoints");
  }

  /**
   * A consumer that is assigned {@link #PARTITION} (from offset 0) at its first poll, then hands
   * out records {@code [0, records)}, in order, over the next {@code polls} polls. Record {@code r}
   * is keyed {@code q<r>} and its noise is drawn from seed {@code r}, so that a record re-read
   * after a restart is the same record.
   */
  static MockConsumer<String, byte[]> consumer(
      SchemaRegistryClient registry, int records, int polls) {
    SpecificAvroSerializer<ActivationBatch> serializer =
        new SpecificAvroSerializer<>(registry, AvroSerdeConfig.forValues());
    byte[][] values = new byte[records][];
    for (int r = 0; r < records; r++) {
      values[r] =
          Objects.requireNonNull(
              serializer.serialize(
                  TOPIC,
                  ActivationBatches.batch(
                      MODEL, HOOK, "q" + r, TOKENS_PER_RECORD, D_IN, Dtype.F32, noise(r))),
              "serialized record");
    }
    MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest");
    consumer.schedulePollTask(
        () -> {
          consumer.rebalance(List.of(PARTITION));
          consumer.updateBeginningOffsets(Map.of(PARTITION, 0L));
        });
    int perPoll = Math.max(1, (records + polls - 1) / polls);
    for (int from = 0; from < records; from += perPoll) {
      int start = from;
      int end = Math.min(records, from + perPoll);
      consumer.schedulePollTask(
          () -> {
            for (int r = start; r < end; r++) {
              consumer.addRecord(
                  new ConsumerRecord<>(TOPIC, PARTITION.partition(), r, "q" + r, values[r]));
            }
          });
    }
    return consumer;
  }

  private static byte[] noise(long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] rows = new float[TOKENS_PER_RECORD * D_IN];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = (float) rng.nextGaussian();
    }
    return ActivationBatches.encode(rows, Dtype.F32);
  }
}
