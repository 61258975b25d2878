package io.saestream.streams.interop;

import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.FeatureBatch;
import io.saestream.schema.v1.ReconstructionStats;
import io.saestream.streams.config.SaeDeployment;
import io.saestream.streams.config.TopicNames;
import io.saestream.streams.errors.DeadLetterHeaders;
import io.saestream.streams.errors.DeadLetterReason;
import io.saestream.streams.testing.ActivationBatches;
import io.saestream.streams.testing.SaeLensFixtures;
import io.saestream.streams.testing.SaeLensFixtures.Matrix;
import io.saestream.streams.testing.SaeStreamCluster;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A foreign client, Python's confluent-kafka, produces activations to and reads features from a
 * running streams app on the in-JVM KRaft broker and schema registry, with the default topic names.
 *
 * <p>The Python side ({@code src/test/python/streams_interop.py}, {@code /usr/bin/python3} with the
 * Debian packages) registers the ActivationBatch schema and produces with the legacy {@code
 * confluent_kafka.avro.AvroProducer}: sae-lens fixture rows as F32, one block of values as F32, F16
 * and BF16, an F16 batch for a second SAE on another hook, and one truncated batch. It then reads
 * the features with a read_committed {@code DeserializingConsumer} and writes everything as JSON.
 * The test checks that Python decoded exactly what a Java read_committed consumer reads, that the
 * latents of the fixture rows are sae-lens's, that the three encodings of one block give the same
 * latents, and that the truncated batch is the one dead letter.
 *
 * <p>Skipped only where {@code /usr/bin/python3} cannot import {@code confluent_kafka} and the
 * {@code CI} environment variable is unset; in CI it fails instead (.ci/run installs the packages).
 */
class PythonClientInteropIT {

  private static final Path PYTHON = Path.of("/usr/bin/python3");
  private static final Path SCRIPT = Path.of("src", "test", "python", "streams_interop.py");
  private static final Duration PYTHON_TIMEOUT = Duration.ofSeconds(40);
  private static final Duration PROCESSING_DEADLINE = Duration.ofSeconds(20);

  private static final String TOPK = "topk";
  private static final String TOPK_CASE = "topk_rescale_folded";
  private static final int TOPK_D_SAE = 128;
  private static final String STANDARD = "standard";
  private static final String STANDARD_CASE = "standard";
  private static final String STANDARD_HOOK = "blocks.1.hook_resid_post";
  private static final int STANDARD_D_SAE = 64;

  /** Records the Python side produces, and how many of them are valid (one SAE per hook each). */
  private static final int PRODUCED = 6;

  private static final int VALID = 5;

  /** What sae-lens's float32 output and ours may differ by, relative to the row's largest value. */
  private static final double PARITY_TOLERANCE = 1e-5;

  @BeforeAll
  static void requirePythonClient(@TempDir Path dir) throws Exception {
    String probe = "import confluent_kafka";
    boolean available =
        Files.isExecutable(PYTHON)
            && run(
                    List.of(PYTHON.toString(), "-c", probe),
                    dir.resolve("probe.log"),
                    PYTHON_TIMEOUT)
                == 0;
    if (!available) {
      String missing =
          PYTHON
              + " cannot '"
              + probe
              + "'; install the Debian packages python3-confluent-kafka python3-avro"
              + " (python3-numpy optional)";
      if (System.getenv("CI") != null) {
        fail(missing + " (required in CI)");
      }
      Assumptions.abort(missing);
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void pythonProducedBatchesAreAnalyzedAndPythonReadsTheCommittedFeatures(@TempDir Path dir)
      throws Exception {
    Matrix fixtureX = SaeLensFixtures.expected(TOPK_CASE, "x");
    Matrix fixtureActs = SaeLensFixtures.expected(TOPK_CASE, "feature_acts");
    Path fixtureFile = dir.resolve("fixture-x.f32");
    Files.write(fixtureFile, littleEndian(fixtureX.data()));
    Path activationSchema = schemaFile(dir, "ActivationBatch.avsc");
    Path featureSchema = schemaFile(dir, "FeatureBatch.avsc");
    Path out = dir.resolve("python.json");
    Path log = dir.resolve("python.log");
    int standardDIn = SaeLensFixtures.weight(STANDARD_CASE, "W_enc").rows();

    try (SaeStreamCluster cluster = SaeStreamCluster.start()) {
      TopicNames topics = TopicNames.defaults();
      cluster.createTopics(topics, 2);
      String appId = "sae-interop-python";
      cluster.startApp(
          cluster.appConfig(
              appId,
              topics,
              dir.resolve("state"),
              1,
              List.of(
                  SaeDeployment.of(TOPK, SaeLensFixtures.saeDir(TOPK_CASE)),
                  SaeDeployment.of(STANDARD, SaeLensFixtures.saeDir(STANDARD_CASE))
                      .withHook(ActivationBatches.FIXTURE_MODEL, STANDARD_HOOK))));

      List<String> command =
          List.of(
              PYTHON.toString(),
              SCRIPT.toString(),
              "--bootstrap",
              cluster.bootstrapServers(),
              "--registry",
              cluster.registryUrl().toString(),
              "--activation-schema",
              activationSchema.toString(),
              "--feature-schema",
              featureSchema.toString(),
              "--activations-topic",
              topics.activations(),
              "--features-topic",
              topics.features(),
              "--topk-hook",
              ActivationBatches.FIXTURE_HOOK,
              "--topk-d-in",
              Integer.toString(fixtureX.cols()),
              "--standard-hook",
              STANDARD_HOOK,
              "--standard-d-in",
              Integer.toString(standardDIn),
              "--fixture-x",
              fixtureFile.toString(),
              "--expect-features",
              Integer.toString(VALID),
              "--timeout",
              "25",
              "--out",
              out.toString());
      int exit = run(command, log, PYTHON_TIMEOUT);
      String pythonLog = Files.readString(log, StandardCharsets.UTF_8);
      assertThat(exit).as("python exit status; its output:%n%s", pythonLog).isZero();
      System.out.print(pythonLog); // which client API and array path this machine exercised
      JsonNode python = new ObjectMapper().readTree(out.toFile());

      List<JsonNode> produced = new ArrayList<>();
      python.get("produced").forEach(produced::add);
      assertThat(produced).hasSize(PRODUCED);
      await()
          .atMost(PROCESSING_DEADLINE)
          .pollInterval(Duration.ofMillis(200))
          .until(() -> cluster.committedOffsets(appId, topics.activations()) == produced.size());

      List<ConsumerRecord<String, FeatureBatch>> javaRead =
          cluster.readAll(topics.features(), FeatureBatch.class);
      List<JsonNode> pythonRead = new ArrayList<>();
      python.get("consumed").forEach(pythonRead::add);

      assertPythonReadWhatJavaReads(pythonRead, javaRead);
      Map<String, FeatureBatch> bySequence = assertOneBatchPerValidRecord(produced, javaRead);
      assertFixtureRowsGiveSaeLensLatents(
          batch(bySequence, "py-fixture-f32"), fixtureActs, fixtureX.rows());
      FeatureBatch blockF32 = batch(bySequence, "py-block-f32");
      assertSameLatents(blockF32, batch(bySequence, "py-block-f16"));
      assertSameLatents(blockF32, batch(bySequence, "py-block-bf16"));
      FeatureBatch standard = batch(bySequence, "py-standard-f16");
      assertThat(standard.getSaeId()).isEqualTo(STANDARD);
      assertThat(standard.getDSae()).isEqualTo(STANDARD_D_SAE);
      assertThat(standard.getLatentIndices()).isNotEmpty().allMatch(j -> j < STANDARD_D_SAE);

      assertThat(cluster.readAll(topics.reconstruction(), ReconstructionStats.class))
          .extracting(r -> r.value().getSequenceId())
          .containsExactlyInAnyOrderElementsOf(bySequence.keySet());
      assertTruncatedBatchIsTheOneDeadLetter(
          cluster.readAllBytes(topics.deadLetter()),
          requireNonNull(byId(produced).get("py-truncated-f16"), "py-truncated-f16 produced"));
      assertThat(cluster.registryClient().latest(topics.activations() + "-value").version())
          .as("the schema Python registered is the one version of the subject")
          .isEqualTo(1);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private static void assertPythonReadWhatJavaReads(
      List<JsonNode> pythonRead, List<ConsumerRecord<String, FeatureBatch>> javaRead) {
    assertThat(pythonRead).as("records Python read").hasSameSizeAs(javaRead);
    Map<String, JsonNode> pythonByPosition = new HashMap<>();
    for (JsonNode record : pythonRead) {
      String position = record.get("partition").asInt() + "@" + record.get("offset").asLong();
      assertThat(pythonByPosition.put(position, record))
          .as("Python read %s twice", position)
          .isNull();
    }
    for (ConsumerRecord<String, FeatureBatch> record : javaRead) {
      String position = record.partition() + "@" + record.offset();
      JsonNode python =
          requireNonNull(
              pythonByPosition.get(position), "Python did not read the record at " + position);
      assertThat(python.get("key").asText()).isEqualTo(record.key());
      FeatureBatch sent = record.value();
      JsonNode read = python.get("value");
      assertThat(read.get("model_id").asText()).isEqualTo(sent.getModelId());
      assertThat(read.get("hook_name").asText()).isEqualTo(sent.getHookName());
      assertThat(read.get("sequence_id").asText()).isEqualTo(sent.getSequenceId());
      assertThat(read.get("start_position").asInt()).isEqualTo(sent.getStartPosition());
      assertThat(read.get("n_tokens").asInt()).isEqualTo(sent.getNTokens());
      assertThat(read.get("sae_id").asText()).isEqualTo(sent.getSaeId());
      assertThat(read.get("sae_version").asLong()).isEqualTo(sent.getSaeVersion());
      assertThat(read.get("d_sae").asInt()).isEqualTo(sent.getDSae());
      assertThat(ints(read.get("row_offsets"))).isEqualTo(sent.getRowOffsets());
      assertThat(ints(read.get("latent_indices"))).isEqualTo(sent.getLatentIndices());
      // Python widens each float32 to a double; narrowing it back must give the same float.
      List<Float> values = new ArrayList<>();
      read.get("latent_values").forEach(v -> values.add((float) v.asDouble()));
      assertThat(values).isEqualTo(sent.getLatentValues());
      assertThat(read.get("source_topic").asText()).isEqualTo(sent.getSourceTopic());
      assertThat(read.get("source_partition").asInt()).isEqualTo(sent.getSourcePartition());
      assertThat(read.get("source_offset").asLong()).isEqualTo(sent.getSourceOffset());
      assertThat(read.get("produced_at").asLong()).isEqualTo(sent.getProducedAt().toEpochMilli());
    }
  }

  /** Each valid Python record gave exactly one FeatureBatch, from its SAE and source offset. */
  private static Map<String, FeatureBatch> assertOneBatchPerValidRecord(
      List<JsonNode> produced, List<ConsumerRecord<String, FeatureBatch>> javaRead) {
    Map<String, FeatureBatch> bySequence = new HashMap<>();
    for (ConsumerRecord<String, FeatureBatch> record : javaRead) {
      FeatureBatch batch = record.value();
      assertThat(record.key()).isEqualTo(batch.getSequenceId());
      assertThat(bySequence.put(batch.getSequenceId(), batch))
          .as("FeatureBatch of %s twice", batch.getSequenceId())
          .isNull();
    }
    Set<String> valid = new HashSet<>();
    for (JsonNode record : produced) {
      String id = record.get("sequence_id").asText();
      if (!record.get("valid").asBoolean()) {
        continue;
      }
      valid.add(id);
      FeatureBatch batch = batch(bySequence, id);
      assertThat(batch.getSourceTopic()).isEqualTo(TopicNames.DEFAULT_ACTIVATIONS);
      assertThat(batch.getSourcePartition()).isEqualTo(record.get("partition").asInt());
      assertThat(batch.getSourceOffset()).isEqualTo(record.get("offset").asLong());
      assertThat(batch.getNTokens()).isEqualTo(record.get("n_tokens").asInt());
      assertThat(batch.getStartPosition()).isEqualTo(record.get("start_position").asInt());
      assertThat(batch.getHookName()).isEqualTo(record.get("hook_name").asText());
      boolean standard = batch.getHookName().equals(STANDARD_HOOK);
      assertThat(batch.getSaeId()).isEqualTo(standard ? STANDARD : TOPK);
      assertThat(batch.getDSae()).isEqualTo(standard ? STANDARD_D_SAE : TOPK_D_SAE);
      assertThat(batch.getRowOffsets()).hasSize(batch.getNTokens() + 1);
    }
    assertThat(bySequence.keySet()).isEqualTo(valid);
    return bySequence;
  }

  private static FeatureBatch batch(Map<String, FeatureBatch> bySequence, String sequenceId) {
    return requireNonNull(bySequence.get(sequenceId), "no FeatureBatch for " + sequenceId);
  }

  private static void assertFixtureRowsGiveSaeLensLatents(
      FeatureBatch features, Matrix acts, int rows) {
    assertThat(features.getNTokens()).isEqualTo(rows);
    List<Integer> offsets = features.getRowOffsets();
    for (int t = 0; t < rows; t++) {
      double[] ours = new double[acts.cols()];
      Set<Integer> active = new HashSet<>();
      for (int p = offsets.get(t); p < offsets.get(t + 1); p++) {
        int j = features.getLatentIndices().get(p);
        assertThat(active.add(j)).as("latent %d twice in row %d", j, t).isTrue();
        ours[j] = features.getLatentValues().get(p);
      }
      double rowMax = 0;
      Set<Integer> expectedActive = new HashSet<>();
      for (int j = 0; j < acts.cols(); j++) {
        rowMax = Math.max(rowMax, Math.abs(acts.get(t, j)));
        if (acts.get(t, j) != 0) {
          expectedActive.add(j);
        }
      }
      // The fixture's top-k margins are >= 2e-5 of the row's largest value, so float32 rounding
      // cannot change which latents win.
      assertThat(active).as("active latents of token %d", t).isEqualTo(expectedActive);
      for (int j = 0; j < acts.cols(); j++) {
        assertThat(ours[j])
            .as("token %d latent %d", t, j)
            .isCloseTo(acts.get(t, j), within(PARITY_TOLERANCE * rowMax));
      }
    }
  }

  /** F16 and BF16 records of values both represent exactly decode to the same float32 input. */
  private static void assertSameLatents(FeatureBatch expected, FeatureBatch actual) {
    assertThat(expected.getLatentIndices()).isNotEmpty();
    assertThat(actual.getRowOffsets()).isEqualTo(expected.getRowOffsets());
    assertThat(actual.getLatentIndices()).isEqualTo(expected.getLatentIndices());
    assertThat(actual.getLatentValues()).isEqualTo(expected.getLatentValues());
  }

  private static void assertTruncatedBatchIsTheOneDeadLetter(
      List<ConsumerRecord<byte[], byte[]>> deadLetters, JsonNode truncated) {
    assertThat(truncated.get("valid").asBoolean()).isFalse();
    assertThat(deadLetters).hasSize(1);
    ConsumerRecord<byte[], byte[]> deadLetter = deadLetters.get(0);
    assertThat(header(deadLetter, DeadLetterHeaders.REASON))
        .isEqualTo(DeadLetterReason.DATA_LENGTH_MISMATCH.name());
    assertThat(header(deadLetter, DeadLetterHeaders.SOURCE_PARTITION))
        .isEqualTo(truncated.get("partition").asText());
    assertThat(header(deadLetter, DeadLetterHeaders.SOURCE_OFFSET))
        .isEqualTo(truncated.get("offset").asText());
  }

  private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
    Header header = requireNonNull(record.headers().lastHeader(name), "no header " + name);
    return new String(header.value(), StandardCharsets.UTF_8);
  }

  private static Map<String, JsonNode> byId(List<JsonNode> produced) {
    Map<String, JsonNode> byId = new HashMap<>();
    produced.forEach(r -> byId.put(r.get("sequence_id").asText(), r));
    return byId;
  }

  /** The .avsc of {@code name}, packaged next to the generated classes, copied into {@code dir}. */
  private static Path schemaFile(Path dir, String name) throws IOException {
    Path file = dir.resolve(name);
    try (InputStream avsc =
        requireNonNull(
            ActivationBatch.class.getResourceAsStream(name),
            name + " is packaged next to the generated classes")) {
      Files.copy(avsc, file);
    }
    return file;
  }

  private static int run(List<String> command, Path log, Duration timeout)
      throws IOException, InterruptedException {
    Process process =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      fail(
          "%s did not finish within %s; output:%n%s",
          command, timeout, Files.readString(log, StandardCharsets.UTF_8));
    }
    return process.exitValue();
  }

  private static List<Integer> ints(JsonNode array) {
    List<Integer> ints = new ArrayList<>();
    array.forEach(v -> ints.add(v.asInt()));
    return ints;
  }

  private static byte[] littleEndian(float[] values) {
    ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES);
    bytes.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(values);
    return bytes.array();
  }
}
