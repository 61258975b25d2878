package io.saestream.schema.checkpoint;

import static io.saestream.schema.checkpoint.TestCheckpoints.KEY;
import static io.saestream.schema.checkpoint.TestCheckpoints.SAE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.schema.v1.SaeCheckpoint;
import io.saestream.schema.v1.SaeCheckpointChunk;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.IntStream;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointPublisherTest {

  private static final String TOPIC = CheckpointKeys.DEFAULT_TOPIC;
  private static final int PARTITIONS = 6;
  private static final int CHUNK = 1000;

  @TempDir Path tmp;

  private static MockProducer<String, SpecificRecord> producer() {
    Node node = new Node(0, "localhost", 9092);
    List<PartitionInfo> partitions =
        IntStream.range(0, PARTITIONS)
            .mapToObj(p -> new PartitionInfo(TOPIC, p, node, new Node[] {node}, new Node[] {node}))
            .toList();
    Cluster cluster = new Cluster("c", List.of(node), partitions, Set.of(), Set.of());
    return new MockProducer<>(cluster, true, null, new StringSerializer(), null);
  }

  private static PublisherSettings settings() {
    return PublisherSettings.defaults()
        .withChunkSize(CHUNK)
        .withClock(Clock.fixed(TestCheckpoints.CREATED, ZoneOffset.UTC));
  }

  private static List<ProducerRecord<String, SpecificRecord>> lastTransaction(
      MockProducer<String, SpecificRecord> producer, int from) {
    List<ProducerRecord<String, SpecificRecord>> history = producer.history();
    return history.subList(from, history.size());
  }

  @Test
  void oneTransactionHoldsTheChunksThenTheManifestOnTheSaesPartition() throws IOException {
    MockProducer<String, SpecificRecord> producer = producer();
    byte[] payload = TestCheckpoints.payload(4500, 1);
    PublishedCheckpoint published;
    try (CheckpointPublisher publisher = new CheckpointPublisher(producer, settings())) {
      published = publisher.publish(TestCheckpoints.release(SAE, 1, payload));
    }

    assertThat(producer.transactionInitialized()).isTrue();
    assertThat(producer.commitCount()).isEqualTo(1);
    assertThat(producer.transactionAborted()).isFalse();
    List<ProducerRecord<String, SpecificRecord>> records = producer.history();
    assertThat(records)
        .extracting(ProducerRecord::key)
        .containsExactly(
            "gpt2-res-8/1/0",
            "gpt2-res-8/1/1",
            "gpt2-res-8/1/2",
            "gpt2-res-8/1/3",
            "gpt2-res-8/1/4",
            "gpt2-res-8");
    int partition = CheckpointKeys.partitionFor(SAE, PARTITIONS);
    assertThat(records).extracting(ProducerRecord::partition).containsOnly(partition);
    assertThat(records).extracting(ProducerRecord::topic).containsOnly(TOPIC);
    assertThat(published)
        .isEqualTo(new PublishedCheckpoint(SAE, 1, Sha256.hex(payload), 4500, 5, partition, 0));

    SaeCheckpoint manifest = (SaeCheckpoint) records.get(5).value();
    assertThat(manifest.getPayloadSha256()).isEqualTo(Sha256.hex(payload));
    assertThat(manifest.getPayloadSize()).isEqualTo(4500);
    assertThat(manifest.getChunkCount()).isEqualTo(5);
    assertThat(manifest.getChunkSize()).isEqualTo(CHUNK);
    assertThat(manifest.getPayloadFormat()).isEqualTo("zip");
    assertThat(manifest.getArchitecture()).isEqualTo("topk");
    assertThat(manifest.getK()).isEqualTo(2);
    assertThat(manifest.getCfgJson()).isEqualTo(TestCheckpoints.CFG);
    assertThat(manifest.getMetrics().getTokensSeen()).isEqualTo(4096);
    assertThat(manifest.getHmacSignature()).isNull();
    assertThat(manifest.getCreatedAt()).isEqualTo(TestCheckpoints.CREATED);
    for (int i = 0; i < 5; i++) {
      SaeCheckpointChunk chunk = (SaeCheckpointChunk) records.get(i).value();
      assertThat(chunk.getIndex()).isEqualTo(i);
      assertThat(chunk.getCount()).isEqualTo(5);
      assertThat(chunk.getData().remaining()).isEqualTo(i < 4 ? CHUNK : 500);
    }
  }

  @Test
  void whatIsPublishedReassemblesToThePayload() throws IOException {
    MockProducer<String, SpecificRecord> producer = producer();
    byte[] payload = TestCheckpoints.payload(10_001, 2);
    try (CheckpointPublisher publisher =
        new CheckpointPublisher(producer, settings().withSigningKey(KEY))) {
      publisher.publish(TestCheckpoints.release(SAE, 1, payload));
    }
    CheckpointAssembler assembler =
        new CheckpointAssembler(AssemblerLimits.defaults(), KEY, Clock.systemUTC());

    List<AssemblyOutcome> outcomes =
        producer.history().stream().map(r -> assembler.offer(r.value())).toList();

    AssemblyOutcome last = outcomes.get(outcomes.size() - 1);
    assertThat(last).isInstanceOf(AssemblyOutcome.Completed.class);
    try (InputStream in = ((AssemblyOutcome.Completed) last).checkpoint().openPayload()) {
      assertThat(in.readAllBytes()).isEqualTo(payload);
    }
  }

  @Test
  void theNextVersionTombstonesEveryChunkOfThePreviousOneInTheSameTransaction() {
    MockProducer<String, SpecificRecord> producer = producer();
    try (CheckpointPublisher publisher = new CheckpointPublisher(producer, settings())) {
      publisher.publish(TestCheckpoints.release(SAE, 1, TestCheckpoints.payload(2500, 1)));
      int before = producer.history().size();

      PublishedCheckpoint v2 =
          publisher.publish(TestCheckpoints.release(SAE, 2, TestCheckpoints.payload(1500, 2)));

      List<ProducerRecord<String, SpecificRecord>> second = lastTransaction(producer, before);
      assertThat(second)
          .extracting(ProducerRecord::key)
          .containsExactly(
              "gpt2-res-8/2/0",
              "gpt2-res-8/2/1",
              "gpt2-res-8",
              "gpt2-res-8/1/0",
              "gpt2-res-8/1/1",
              "gpt2-res-8/1/2");
      assertThat(second.subList(3, 6)).extracting(ProducerRecord::value).containsOnlyNulls();
      assertThat(v2.tombstones()).isEqualTo(3);
      assertThat(producer.commitCount()).isEqualTo(2);
    }
  }

  @Test
  void versionsMustIncreasePerSaeButEachSaeHasItsOwn() {
    try (CheckpointPublisher publisher = new CheckpointPublisher(producer(), settings())) {
      publisher.publish(TestCheckpoints.release(SAE, 5, TestCheckpoints.payload(10, 1)));

      assertThatThrownBy(
              () ->
                  publisher.publish(
                      TestCheckpoints.release(SAE, 5, TestCheckpoints.payload(10, 1))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "version must be greater than 5, the last version published for gpt2-res-8, was 5");
      assertThat(
              publisher
                  .publish(TestCheckpoints.release("other", 1, TestCheckpoints.payload(10, 1)))
                  .version())
          .isEqualTo(1);
    }
  }

  @Test
  void aResumedPublisherRefusesStaleVersionsAndTombstonesTheVersionOnTheTopic() {
    MockProducer<String, SpecificRecord> producer = producer();
    SaeCheckpoint onTopic =
        TestCheckpoints.build(SAE, 7, TestCheckpoints.payload(2000, 7), CHUNK, null).manifest();
    try (CheckpointPublisher publisher = new CheckpointPublisher(producer, settings())) {
      publisher.resumeAfter(onTopic, 4);

      assertThatThrownBy(
              () ->
                  publisher.publish(
                      TestCheckpoints.release(SAE, 7, TestCheckpoints.payload(10, 1))))
          .isInstanceOf(IllegalArgumentException.class);
      publisher.publish(TestCheckpoints.release(SAE, 8, TestCheckpoints.payload(10, 1)));
    }

    List<ProducerRecord<String, SpecificRecord>> records = producer.history();
    assertThat(records.subList(2, 4))
        .extracting(ProducerRecord::key)
        .containsExactly("gpt2-res-8/7/0", "gpt2-res-8/7/1");
    assertThat(records.subList(2, 4)).extracting(ProducerRecord::partition).containsOnly(4);
  }

  @Test
  void aSourceShorterThanDeclaredAbortsTheTransaction() {
    MockProducer<String, SpecificRecord> producer = producer();
    PayloadSource lying =
        new PayloadSource() {
          @Override
          public long size() {
            return 3000;
          }

          @Override
          public InputStream open() {
            return new ByteArrayInputStream(new byte[2500]);
          }
        };
    CheckpointRelease release =
        new CheckpointRelease(SAE, 1, "standard", 4, 16, null, "{}", lying, null);
    try (CheckpointPublisher publisher = new CheckpointPublisher(producer, settings())) {
      assertThatThrownBy(() -> publisher.publish(release))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("payload ended after 2500 bytes, its source declared 3000");

      assertThat(producer.transactionAborted()).isTrue();
      assertThat(producer.history()).isEmpty();
      assertThat(publisher.lastPublished(SAE)).isEmpty();
    }
  }

  @Test
  void aSourceLongerThanDeclaredAbortsTheTransaction() throws IOException {
    Path file = tmp.resolve("payload.zip");
    Files.write(file, new byte[2000]);
    PayloadSource source = PayloadSource.ofFile(file);
    Files.write(file, new byte[2001]);
    CheckpointRelease release =
        new CheckpointRelease(SAE, 1, "standard", 4, 16, null, "{}", source, null);
    MockProducer<String, SpecificRecord> producer = producer();
    try (CheckpointPublisher publisher = new CheckpointPublisher(producer, settings())) {
      assertThatThrownBy(() -> publisher.publish(release))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("payload is longer than the 2000 bytes its source declared");
      assertThat(producer.transactionAborted()).isTrue();
    }
  }

  @Test
  void aFencedPublisherFailsFatallyAndCloses() {
    MockProducer<String, SpecificRecord> producer = producer();
    CheckpointPublisher publisher = new CheckpointPublisher(producer, settings());
    producer.commitTransactionException = new ProducerFencedException("newer trainer");

    assertThatThrownBy(
            () ->
                publisher.publish(TestCheckpoints.release(SAE, 1, TestCheckpoints.payload(10, 1))))
        .isInstanceOf(CheckpointPublishException.class)
        .hasMessageContaining("the publisher is closed")
        .satisfies(e -> assertThat(((CheckpointPublishException) e).fatal()).isTrue());
    assertThat(producer.closed()).isTrue();
    assertThatThrownBy(
            () ->
                publisher.publish(TestCheckpoints.release(SAE, 2, TestCheckpoints.payload(10, 1))))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aFailedSendAbortsAndThePublisherStaysUsable() {
    MockProducer<String, SpecificRecord> producer = producer();
    try (CheckpointPublisher publisher = new CheckpointPublisher(producer, settings())) {
      producer.sendException = new TimeoutException("broker down");

      assertThatThrownBy(
              () ->
                  publisher.publish(
                      TestCheckpoints.release(SAE, 1, TestCheckpoints.payload(10, 1))))
          .isInstanceOf(CheckpointPublishException.class)
          .satisfies(e -> assertThat(((CheckpointPublishException) e).fatal()).isFalse());
      assertThat(producer.transactionAborted()).isTrue();

      producer.sendException = null;
      assertThat(
              publisher
                  .publish(TestCheckpoints.release(SAE, 1, TestCheckpoints.payload(10, 1)))
                  .version())
          .isEqualTo(1);
    }
  }

  @Test
  void aMissingTopicIsReportedBeforeAnyTransaction() {
    MockProducer<String, SpecificRecord> producer = producer();
    try (CheckpointPublisher publisher =
        new CheckpointPublisher(producer, settings().withTopic("no.such.topic"))) {
      assertThatThrownBy(
              () ->
                  publisher.publish(
                      TestCheckpoints.release(SAE, 1, TestCheckpoints.payload(10, 1))))
          .isInstanceOf(CheckpointPublishException.class)
          .hasMessageStartingWith("topic no.such.topic does not exist");
      assertThat(producer.transactionInFlight()).isFalse();
    }
  }

  @Test
  void unreadableTopicMetadataIsAPublishFailure() {
    MockProducer<String, SpecificRecord> producer = producer();
    producer.partitionsForException = new TimeoutException("Topic not present in metadata");
    try (CheckpointPublisher publisher = new CheckpointPublisher(producer, settings())) {
      assertThatThrownBy(
              () ->
                  publisher.publish(
                      TestCheckpoints.release(SAE, 1, TestCheckpoints.payload(10, 1))))
          .isInstanceOf(CheckpointPublishException.class)
          .hasMessageStartingWith("cannot read the partitions of sae.checkpoints.v1");
      assertThat(producer.transactionInFlight()).isFalse();
    }
  }

  @Test
  void anAbortThatFailsClosesThePublisher() {
    MockProducer<String, SpecificRecord> producer = producer();
    producer.sendException = new TimeoutException("broker down");
    producer.abortTransactionException = new IllegalStateException("producer in a fatal state");
    CheckpointPublisher publisher = new CheckpointPublisher(producer, settings());

    assertThatThrownBy(
            () ->
                publisher.publish(TestCheckpoints.release(SAE, 1, TestCheckpoints.payload(10, 1))))
        .isInstanceOf(CheckpointPublishException.class)
        .satisfies(e -> assertThat(((CheckpointPublishException) e).fatal()).isTrue())
        .satisfies(
            e -> assertThat(Objects.requireNonNull(e.getCause()).getSuppressed()).hasSize(1));
    assertThat(producer.closed()).isTrue();
  }

  @Test
  void theSignatureCoversIdVersionDigestAndSize() {
    MockProducer<String, SpecificRecord> producer = producer();
    byte[] payload = TestCheckpoints.payload(3000, 3);
    try (CheckpointPublisher publisher =
        new CheckpointPublisher(producer, settings().withSigningKey(KEY))) {
      publisher.publish(TestCheckpoints.release(SAE, 3, payload));
    }
    SaeCheckpoint manifest = (SaeCheckpoint) producer.history().get(3).value();
    ByteBuffer signature = manifest.getHmacSignature();
    byte[] bytes = new byte[signature.remaining()];
    signature.duplicate().get(bytes);

    assertThat(KEY.verify(bytes, SAE, 3, Sha256.hex(payload), 3000)).isTrue();
    assertThat(KEY.verify(bytes, SAE, 4, Sha256.hex(payload), 3000)).isFalse();
  }

  @Test
  void partitionsFollowTheDefaultPartitionerOfTheManifestKey() {
    for (String id : List.of("a", "gpt2-res-8", "llama-3-8b.blocks.16.hook_resid_post")) {
      byte[] key = new StringSerializer().serialize(TOPIC, id);
      assertThat(CheckpointKeys.partitionFor(id, PARTITIONS))
          .isEqualTo(BuiltInPartitioner.partitionForKey(key, PARTITIONS));
    }
  }
}
