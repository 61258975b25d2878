package io.saestream.embedded.registry;

import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.saestream.schema.registry.RestSchemaRegistryClient;
import io.saestream.schema.registry.SchemaRegistryClientConfig;
import io.saestream.schema.serde.AvroSerdeConfig;
import io.saestream.schema.serde.SpecificAvroDeserializer;
import io.saestream.schema.serde.SpecificAvroSerializer;
import io.saestream.schema.serde.WireFormat;
import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.Dtype;
import io.saestream.schema.v1.FeatureBatch;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A foreign client, Python's confluent-kafka (legacy {@code confluent_kafka.avro} API), against the
 * embedded registry and the Java serdes, in both directions.
 *
 * <p>Skipped only where {@code /usr/bin/python3} lacks the Debian packages {@code
 * python3-confluent-kafka}, {@code python3-avro} and {@code python3-requests} and the {@code CI}
 * environment variable is unset; in CI a missing package fails the test.
 */
class EmbeddedRegistryPythonInteropTest {

  private static final Path PYTHON = Path.of("/usr/bin/python3");
  private static final Path SCRIPT = Path.of("src", "test", "python", "confluent_interop.py");
  private static final String ACTIVATIONS_SUBJECT = "sae.activations.v1-value";
  private static final String FEATURES_TOPIC = "sae.features.v1";
  private static final long PROCESS_TIMEOUT_SECONDS = 60;

  private final EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.start();
  private final RestSchemaRegistryClient client =
      new RestSchemaRegistryClient(SchemaRegistryClientConfig.of(registry.url().toString()));

  @BeforeAll
  static void requirePythonClient(@TempDir Path dir) throws Exception {
    String probe = "import avro, requests, confluent_kafka.avro";
    boolean available =
        Files.isExecutable(PYTHON)
            && run(List.of(PYTHON.toString(), "-c", probe), dir.resolve("probe.log")) == 0;
    if (!available) {
      String missing =
          PYTHON
              + " cannot '"
              + probe
              + "'; install the Debian packages python3-confluent-kafka"
              + " python3-avro python3-requests";
      if (System.getenv("CI") != null) {
        fail(missing + " (required in CI)");
      }
      Assumptions.abort(missing);
    }
  }

  @AfterEach
  void stop() {
    registry.close();
  }

  @Test
  void pythonAndJavaReadEachOthersRecordsThroughTheEmbeddedRegistry(@TempDir Path dir)
      throws Exception {
    Path schema = dir.resolve("ActivationBatch.avsc");
    try (InputStream avsc =
        requireNonNull(
            ActivationBatch.class.getResourceAsStream("ActivationBatch.avsc"),
            "ActivationBatch.avsc is packaged next to the generated class")) {
      Files.copy(avsc, schema);
    }
    FeatureBatch javaBatch = featureBatch();
    byte[] javaBytes =
        requireNonNull(
            new SpecificAvroSerializer<FeatureBatch>(client, AvroSerdeConfig.forValues())
                .serialize(FEATURES_TOPIC, javaBatch));
    Files.write(dir.resolve("feature-batch.bin"), javaBytes);

    List<String> command =
        List.of(
            PYTHON.toString(),
            SCRIPT.toString(),
            "--registry",
            registry.url().toString(),
            "--activation-schema",
            schema.toString(),
            "--activation-out",
            dir.resolve("activation.bin").toString(),
            "--activation-values-out",
            dir.resolve("activation.json").toString(),
            "--feature-batch-in",
            dir.resolve("feature-batch.bin").toString(),
            "--feature-batch-values-out",
            dir.resolve("feature-batch.json").toString());
    Path log = dir.resolve("python.log");
    int exit = run(command, log);
    assertThat(exit).as("python exit status; its output:%n%s", Files.readString(log)).isZero();

    assertPythonRecordDecodesInJava(
        Files.readAllBytes(dir.resolve("activation.bin")),
        readJson(dir.resolve("activation.json")));
    assertJavaRecordDecodedInPython(
        javaBatch, javaBytes, readJson(dir.resolve("feature-batch.json")));
  }

  private void assertPythonRecordDecodesInJava(byte[] bytes, JsonNode encoded) {
    int pythonId = encoded.get("schema_id").asInt();
    assertThat(WireFormat.schemaIdOf(bytes)).isEqualTo(pythonId);

    ActivationBatch read =
        requireNonNull(
            new SpecificAvroDeserializer<>(freshClient(), ActivationBatch.class)
                .deserialize("sae.activations.v1", bytes));

    assertThat(read.getModelId()).isEqualTo(encoded.get("model_id").asText());
    assertThat(read.getHookName()).isEqualTo(encoded.get("hook_name").asText());
    assertThat(read.getSequenceId()).isEqualTo(encoded.get("sequence_id").asText());
    assertThat(read.getStartPosition()).isEqualTo(encoded.get("start_position").asInt());
    assertThat(read.getNTokens()).isEqualTo(encoded.get("n_tokens").asInt());
    assertThat(read.getDIn()).isEqualTo(encoded.get("d_in").asInt());
    assertThat(read.getDtype()).isEqualTo(Dtype.valueOf(encoded.get("dtype").asText()));
    assertThat(HexFormat.of().formatHex(bytesOf(read.getData())))
        .isEqualTo(encoded.get("data").asText());
    assertThat(read.getTokenIds()).isEqualTo(ints(encoded.get("token_ids")));
    assertThat(read.getTokens()).containsExactly("Hello", " wörld");
    assertThat(read.getProducedAt())
        .isEqualTo(Instant.ofEpochMilli(encoded.get("produced_at").asLong()));
    assertThat(read.getAttributes()).isEqualTo(strings(encoded.get("attributes")));

    // Python registered the .avsc text. A Java producer of the generated class must find that very
    // schema rather than need a second id and version for the same contract.
    byte[] reencoded =
        requireNonNull(
            new SpecificAvroSerializer<ActivationBatch>(
                    freshClient(), AvroSerdeConfig.forValues().withAutoRegisterSchemas(false))
                .serialize("sae.activations.v1", read));
    assertThat(WireFormat.schemaIdOf(reencoded)).isEqualTo(pythonId);
    assertThat(client.latest(ACTIVATIONS_SUBJECT).version()).isEqualTo(1);
  }

  private static void assertJavaRecordDecodedInPython(
      FeatureBatch sent, byte[] bytes, JsonNode decoded) {
    assertThat(decoded.get("schema_id").asInt()).isEqualTo(WireFormat.schemaIdOf(bytes));
    assertThat(decoded.get("model_id").asText()).isEqualTo(sent.getModelId());
    assertThat(decoded.get("hook_name").asText()).isEqualTo(sent.getHookName());
    assertThat(decoded.get("sequence_id").asText()).isEqualTo(sent.getSequenceId());
    assertThat(decoded.get("start_position").asInt()).isEqualTo(sent.getStartPosition());
    assertThat(decoded.get("n_tokens").asInt()).isEqualTo(sent.getNTokens());
    assertThat(decoded.get("sae_id").asText()).isEqualTo(sent.getSaeId());
    assertThat(decoded.get("sae_version").asLong()).isEqualTo(sent.getSaeVersion());
    assertThat(decoded.get("d_sae").asInt()).isEqualTo(sent.getDSae());
    assertThat(ints(decoded.get("row_offsets"))).isEqualTo(sent.getRowOffsets());
    assertThat(ints(decoded.get("latent_indices"))).isEqualTo(sent.getLatentIndices());
    List<Float> values = new ArrayList<>();
    // Python widens each float32 to a double; narrowing it back must give the same float exactly.
    decoded.get("latent_values").forEach(v -> values.add((float) v.asDouble()));
    assertThat(values).isEqualTo(sent.getLatentValues());
    assertThat(decoded.get("source_topic").asText()).isEqualTo(sent.getSourceTopic());
    assertThat(decoded.get("source_partition").asInt()).isEqualTo(sent.getSourcePartition());
    assertThat(decoded.get("source_offset").asLong()).isEqualTo(sent.getSourceOffset());
    assertThat(Instant.ofEpochMilli(decoded.get("produced_at").asLong()))
        .isEqualTo(sent.getProducedAt());
  }

  private RestSchemaRegistryClient freshClient() {
    return new RestSchemaRegistryClient(SchemaRegistryClientConfig.of(registry.url().toString()));
  }

  private static FeatureBatch featureBatch() {
    return FeatureBatch.newBuilder(RestClientAgainstEmbeddedRegistryTest.featureBatch())
        .setLatentValues(List.of(0.1f, Float.MIN_VALUE, -3.4028235e38f))
        .setSaeVersion(Long.MAX_VALUE)
        .setSequenceId("jävä-seq")
        .build();
  }

  private static int run(List<String> command, Path log) throws IOException, InterruptedException {
    Process process =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!process.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      fail(
          "%s did not finish within %d s; output:%n%s",
          command, PROCESS_TIMEOUT_SECONDS, Files.readString(log));
    }
    return process.exitValue();
  }

  private static JsonNode readJson(Path file) throws IOException {
    return new ObjectMapper().readTree(Files.readString(file, StandardCharsets.UTF_8));
  }

  private static List<Integer> ints(JsonNode array) {
    List<Integer> ints = new ArrayList<>();
    array.forEach(v -> ints.add(v.asInt()));
    return ints;
  }

  private static Map<String, String> strings(JsonNode object) {
    Map<String, String> map = new TreeMap<>();
    object.properties().forEach(e -> map.put(e.getKey(), e.getValue().asText()));
    return map;
  }

  private static byte[] bytesOf(ByteBuffer buffer) {
    byte[] bytes = new byte[buffer.remaining()];
    buffer.duplicate().get(bytes);
    return bytes;
  }
}
