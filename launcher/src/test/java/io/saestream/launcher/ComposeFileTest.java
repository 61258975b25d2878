package io.saestream.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The repository's docker-compose.yml cannot be run here (no Docker engine), so it is checked
 * against what it drives: the real CLI, the real configuration loaders, the mounted files and the
 * Dockerfile. Every check passes on the file as committed and fails on a copy broken in the way it
 * guards against.
 */
class ComposeFileTest {

  private static final Path ROOT = projectRoot();
  private static final String COMPOSE = read(ROOT.resolve("docker-compose.yml"));
  private static final Pattern SERVICE_START = Pattern.compile("\n  [a-z][a-z0-9-]*:\n");

  /** The repository root: the nearest directory above the working directory with the file. */
  private static Path projectRoot() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("docker-compose.yml"))
          && Files.isRegularFile(p.resolve("mvnw"))) {
        return p;
      }
    }
    throw new IllegalStateException("no docker-compose.yml next to mvnw above " + dir);
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ComposeStack stack() {
    return ComposeStack.parse(COMPOSE, ROOT);
  }

  /** The compose file with the first {@code from} in service {@code service} replaced. */
  private static ComposeStack broken(String service, String from, String to) {
    return ComposeStack.parse(breakText(COMPOSE, service, from, to), ROOT);
  }

  private static String breakText(String yaml, String service, String from, String to) {
    int start = yaml.indexOf("\n  " + service + ":\n");
    assertThat(start).as("service %s in the compose file", service).isNotNegative();
    Matcher next = SERVICE_START.matcher(yaml);
    int end = next.find(start + 1) ? next.start() : yaml.indexOf("\nvolumes:", start);
    int at = yaml.indexOf(from, start);
    assertThat(at).as("'%s' in service %s", from, service).isBetween(start, end - from.length());
    return yaml.substring(0, at) + to + yaml.substring(at + from.length());
  }

  /** A copy of the compose file and docker/ in {@code dir}, for breaking a mounted file. */
  private static Path copyOfProject(Path dir) throws IOException {
    Files.writeString(dir.resolve("docker-compose.yml"), COMPOSE);
    try (Stream<Path> files = Files.walk(ROOT.resolve("docker"))) {
      for (Path source : files.toList()) {
        Path target = dir.resolve(ROOT.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target);
        }
      }
    }
    return dir;
  }

  private static void replaceIn(Path file, String from, String to) throws IOException {
    String text = read(file);
    assertThat(text).contains(from);
    Files.writeString(file, text.replace(from, to));
  }

  // ---------------------------------------------------------------- images

  @Test
  void everyImageIsPinned() {
    assertThat(ComposeChecks.imagesArePinned(stack())).isEmpty();
  }

  @Test
  void anImageOnLatestOrWithoutATagIsReported() {
    assertThat(
            ComposeChecks.imagesArePinned(
                broken("kafka", "apache/kafka:4.4.0", "apache/kafka:latest")))
        .singleElement()
        .asString()
        .contains("kafka: image apache/kafka:latest is not pinned");
    assertThat(ComposeChecks.imagesArePinned(broken("streams", "sae-stream:0.1.0", "sae-stream")))
        .singleElement()
        .asString()
        .contains("streams: image sae-stream has no tag");
  }

  @Test
  void anUnpinnedBaseImageAndAMissingCopySourceAreReported(@TempDir Path dir) throws IOException {
    Files.createDirectories(dir.resolve("docker"));
    Files.writeString(
        dir.resolve("docker/Dockerfile"),
        "FROM eclipse-temurin AS build\nCOPY missing/ missing/\nFROM build AS runtime\n");
    String yaml =
        """
        services:
          app:
            build:
              context: .
              dockerfile: docker/Dockerfile
              target: runtime
            image: app:1
            command: ["export", "--in", "a", "--out", "b"]
        """;
    ComposeStack stack = ComposeStack.parse(yaml, dir);

    assertThat(ComposeChecks.imagesArePinned(stack))
        .singleElement()
        .asString()
        .contains("eclipse-temurin has no tag");
    assertThat(ComposeChecks.dockerfilesExist(stack))
        .singleElement()
        .asString()
        .contains("COPY source missing/");
  }

  @Test
  void interpolationIsRefusedRatherThanCheckedAsWritten() {
    String yaml = breakText(COMPOSE, "streams", "kafka:19092", "${KAFKA}:19092");

    assertThatThrownBy(() -> ComposeStack.parse(yaml, ROOT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("interpolates");
  }

  // ---------------------------------------------------------------- commands and variables

  @Test
  void everyCommandIsARealSubcommandWithRealOptions() {
    assertThat(ComposeChecks.commandsAreRealSubcommands(stack())).isEmpty();
    assertThat(ComposeChecks.appServices(stack(), new ArrayList<>()))
        .extracting(ComposeChecks.AppService::subcommand)
        .contains("streams", "trainer", "produce");
  }

  @Test
  void anUnknownSubcommandOptionOrValueIsReported() {
    assertThat(
            ComposeChecks.commandsAreRealSubcommands(
                broken("trainer", "\"--config\"", "\"--konfig\"")))
        .singleElement()
        .asString()
        .contains("trainer: command")
        .contains("--konfig");
    assertThat(
            ComposeChecks.commandsAreRealSubcommands(broken("producer", "- produce", "- prodce")))
        .singleElement()
        .asString()
        .contains("producer: command");
    assertThat(
            ComposeChecks.commandsAreRealSubcommands(
                broken(
                    "streams",
                    "[\"streams\", \"--config\", \"/etc/sae-stream/streams.yaml\"]",
                    "[\"demo\", \"--duration\", \"0s\"]")))
        .singleElement()
        .asString()
        .contains("streams: command [demo, --duration, 0s] is rejected");
  }

  @Test
  void everySaeStreamVariableNamesAKeyOfItsApp() {
    assertThat(ComposeChecks.environmentVariablesAreConfigKeys(stack())).isEmpty();
  }

  @Test
  void aVariableThatNamesNoKeyIsReported() {
    String advertised = "SAE_STREAM_HTTP_ADVERTISED_HOST: streams\n";
    assertThat(
            ComposeChecks.environmentVariablesAreConfigKeys(
                broken(
                    "streams",
                    advertised,
                    advertised + "      SAE_STREAM_INFERENCE_DEVISE: cuda\n")))
        .singleElement()
        .asString()
        .contains("streams: SAE_STREAM_INFERENCE_DEVISE names no streams config key");
    String registry = "SAE_STREAM_SCHEMA_REGISTRY_URLS: http://schema-registry:8081\n";
    assertThat(
            ComposeChecks.environmentVariablesAreConfigKeys(
                broken("trainer", registry, registry + "      SAE_STREAM_RUNTIME_DEVIC: cpu\n")))
        .singleElement()
        .asString()
        .contains("trainer: SAE_STREAM_RUNTIME_DEVIC names no trainer config key");
    assertThat(
            ComposeChecks.environmentVariablesAreConfigKeys(
                broken("producer", "SAE_STREAM_D_IN", "SAE_STREAM_DIN")))
        .singleElement()
        .asString()
        .contains("producer: SAE_STREAM_DIN names no produce option");
  }

  // ---------------------------------------------------------------- mounted files

  @Test
  void everyMountedFileExistsAndEveryConfigLoads() {
    assertThat(ComposeChecks.mountedConfigsLoad(stack())).isEmpty();
  }

  @Test
  void aMissingMountedConfigIsReported() {
    assertThat(
            ComposeChecks.mountedConfigsLoad(
                broken("trainer", "./docker/config/trainer.yaml", "./docker/config/absent.yaml")))
        .anyMatch(p -> p.startsWith("trainer: mounts ./docker/config/absent.yaml"))
        .anyMatch(p -> p.startsWith("trainer: --config /etc/sae-stream/trainer.yaml"));
  }

  @Test
  void aMountedConfigThatDoesNotLoadIsReportedWithTheKey(@TempDir Path dir) throws IOException {
    Path project = copyOfProject(dir);
    replaceIn(project.resolve("docker/config/streams.yaml"), "device: cpu", "device: tpu");
    replaceIn(project.resolve("docker/config/trainer.yaml"), "d-sae: 4096", "d-sae: -1");

    List<String> problems = ComposeChecks.mountedConfigsLoad(ComposeStack.parse(COMPOSE, project));

    assertThat(problems)
        .anyMatch(p -> p.startsWith("streams:") && p.contains("inference.device"))
        .anyMatch(p -> p.startsWith("trainer:") && p.contains("trainers[0].d-sae must be > 0"))
        // streams-gpu mounts the same file, but SAE_STREAM_INFERENCE_DEVICE overrides the value.
        .noneMatch(p -> p.startsWith("streams-gpu:"));
  }

  @Test
  void aRuleForAnSaeThatIsNotDeployedIsReported(@TempDir Path dir) throws IOException {
    Path project = copyOfProject(dir);
    replaceIn(project.resolve("docker/config/rules.yaml"), "sae-id: synthetic-topk", "sae-id: x");

    assertThat(ComposeChecks.mountedConfigsLoad(ComposeStack.parse(COMPOSE, project)))
        .contains(
            "streams: rule drift-fvu watches sae-id x, which is not deployed ([synthetic-topk])");
  }

  // ---------------------------------------------------------------- paths

  @Test
  void everyConfiguredPathIsMounted() {
    assertThat(ComposeChecks.configuredPathsAreMounted(stack())).isEmpty();
  }

  @Test
  void anUnmountedOrReadOnlyPathIsReported() {
    assertThat(
            ComposeChecks.configuredPathsAreMounted(
                broken("streams", "      - streams-state:/var/lib/sae-stream/state\n", "")))
        .singleElement()
        .asString()
        .startsWith("streams: streams.state-dir /var/lib/sae-stream/state is in no volume");
    assertThat(
            ComposeChecks.configuredPathsAreMounted(
                broken(
                    "trainer",
                    "trainer-data:/var/lib/sae-stream/trainer\n",
                    "trainer-data:/var/lib/sae-stream/trainer:ro\n")))
        .anyMatch(p -> p.startsWith("trainer: trainers[0].output-dir") && p.contains("read-only"))
        .anyMatch(p -> p.startsWith("trainer: state.dir") && p.contains("read-only"));
  }

  @Test
  void theFirstSaeMustBeWaitedForAndWrittenWhereItIsRead() {
    assertThat(
            ComposeChecks.configuredPathsAreMounted(
                broken("streams", "      WAIT_FOR_FILES:", "      NO_WAIT_FOR_FILES:")))
        .singleElement()
        .asString()
        .contains("is written by trainer after the start; list a file of it in WAIT_FOR_FILES");
    assertThat(
            ComposeChecks.configuredPathsAreMounted(
                broken(
                    "streams",
                    "trainer-data:/var/lib/sae-stream/trainer:ro",
                    "trainer-data:/var/lib/sae-stream/trainer/checkpoints:ro")))
        .anyMatch(p -> p.contains("no trainer writes sae-id synthetic-topk version 1 there"));
  }

  @Test
  void aTrainerWhoseTemporaryFilesAreOnAnotherFileSystemIsReported() {
    assertThat(
            ComposeChecks.configuredPathsAreMounted(
                broken("trainer", " -Djava.io.tmpdir=/var/lib/sae-stream/trainer/tmp", "")))
        .singleElement()
        .asString()
        .contains("java.io.tmpdir is not");
  }

  // ---------------------------------------------------------------- ports and addresses

  @Test
  void everyPublishedPortIsAListenerAndEveryAddressResolves() {
    assertThat(ComposeChecks.portsAndAddressesMatch(stack())).isEmpty();
  }

  @Test
  void aPublishedPortNobodyListensOnIsReported() {
    assertThat(ComposeChecks.portsAndAddressesMatch(broken("streams", "8080:8080", "8080:8081")))
        .singleElement()
        .asString()
        .isEqualTo("streams: publishes 8081, http.port is 8080");
    assertThat(ComposeChecks.portsAndAddressesMatch(broken("kafka", "9092:9092", "9092:9094")))
        .singleElement()
        .asString()
        .startsWith("kafka: publishes 9094, Kafka listens on");
    assertThat(
            ComposeChecks.portsAndAddressesMatch(
                broken("kafka", "EXTERNAL://localhost:9092", "EXTERNAL://localhost:29092")))
        .singleElement()
        .asString()
        .contains("advertised as localhost:29092");
    assertThat(
            ComposeChecks.portsAndAddressesMatch(
                broken("schema-registry", "\"8081:8081\"", "\"8081:8082\"")))
        .singleElement()
        .asString()
        .startsWith("schema-registry: publishes 8082");
    assertThat(ComposeChecks.portsAndAddressesMatch(broken("streams-gpu", "8090:", "8080:")))
        .singleElement()
        .asString()
        .contains("host port 8080 is also published by streams");
    assertThat(ComposeChecks.portsAndAddressesMatch(broken("streams", "8080/ready", "8080/health")))
        .singleElement()
        .asString()
        .startsWith("streams: healthcheck probes");
  }

  @Test
  void anAddressThatNoServiceListensOnIsReported() {
    assertThat(
            ComposeChecks.portsAndAddressesMatch(
                broken(
                    "streams",
                    "SAE_STREAM_KAFKA_BOOTSTRAP_SERVERS: kafka:19092",
                    "SAE_STREAM_KAFKA_BOOTSTRAP_SERVERS: kafka:9092")))
        .singleElement()
        .asString()
        .startsWith("streams: bootstrap server kafka:9092 is not a listener");
    assertThat(
            ComposeChecks.portsAndAddressesMatch(
                broken("trainer", "http://schema-registry:8081", "http://registry:8081")))
        .singleElement()
        .asString()
        .startsWith("trainer: schema registry http://registry:8081");
    assertThat(
            ComposeChecks.portsAndAddressesMatch(
                broken("producer", "      SAE_STREAM_BOOTSTRAP_SERVERS: kafka:19092\n", "")))
        .singleElement()
        .asString()
        .startsWith("producer: bootstrap server localhost:9092");
  }

  // ---------------------------------------------------------------- Dockerfiles

  @Test
  void everyDockerfileTargetArgAndCopySourceExists() {
    assertThat(ComposeChecks.dockerfilesExist(stack())).isEmpty();
  }

  @Test
  void aMissingDockerfileTargetOrArgIsReported() {
    assertThat(
            ComposeChecks.dockerfilesExist(
                broken("trainer", "docker/Dockerfile", "docker/Dockerfile.absent")))
        .singleElement()
        .asString()
        .startsWith("trainer: Dockerfile");
    assertThat(ComposeChecks.dockerfilesExist(broken("streams", "runtime\n", "runtime-cpu\n")))
        .singleElement()
        .asString()
        .isEqualTo("streams: build target runtime-cpu is no stage of " + dockerfile());
    assertThat(ComposeChecks.dockerfilesExist(broken("producer", "MAVEN_PROFILE:", "PROFILE:")))
        .singleElement()
        .asString()
        .isEqualTo("producer: build arg PROFILE is not an ARG of the Dockerfile");
  }

  private static Path dockerfile() {
    return ROOT.resolve("docker/Dockerfile");
  }

  // ---------------------------------------------------------------- dependencies and profiles

  @Test
  void everyDependencyExistsAndCanSatisfyItsCondition() {
    assertThat(ComposeChecks.dependenciesExist(stack())).isEmpty();
  }

  @Test
  void aBrokenDependencyIsReported() {
    assertThat(
            ComposeChecks.dependenciesExist(
                broken("streams", "      trainer:\n", "      trainr:\n")))
        .singleElement()
        .asString()
        .isEqualTo("streams: depends on trainr, which is no service");
    assertThat(
            ComposeChecks.dependenciesExist(
                broken(
                    "trainer",
                    "condition: service_completed_successfully",
                    "condition: service_healthy")))
        .singleElement()
        .asString()
        .isEqualTo("trainer: waits for topics to be healthy, which has no healthcheck");
    assertThat(
            ComposeChecks.dependenciesExist(
                broken("streams", "      trainer:\n", "      producer:\n")))
        .singleElement()
        .asString()
        .isEqualTo("streams: depends on producer, which only runs with profiles [demo]");
  }

  @Test
  void theGpuProfileReservesAnNvidiaDeviceForACudaBuild() {
    assertThat(ComposeChecks.gpuProfileReservesAnNvidiaDevice(stack())).isEmpty();
  }

  @Test
  void aGpuServiceWithoutAnNvidiaReservationCudaBuildOrCudaDeviceIsReported() {
    assertThat(
            ComposeChecks.gpuProfileReservesAnNvidiaDevice(
                broken("streams-gpu", "driver: nvidia", "driver: amd")))
        .singleElement()
        .asString()
        .startsWith("streams-gpu: reserves no device with driver nvidia");
    assertThat(
            ComposeChecks.gpuProfileReservesAnNvidiaDevice(
                broken("streams-gpu", "MAVEN_PROFILE: gpu", "MAVEN_PROFILE: cpu")))
        .singleElement()
        .asString()
        .startsWith("streams-gpu: is not built with MAVEN_PROFILE=gpu");
    assertThat(
            ComposeChecks.gpuProfileReservesAnNvidiaDevice(
                broken("streams-gpu", "target: runtime-gpu", "target: runtime")))
        .singleElement()
        .asString()
        .startsWith("streams-gpu: runs on eclipse-temurin");
    assertThat(
            ComposeChecks.gpuProfileReservesAnNvidiaDevice(
                broken(
                    "streams-gpu",
                    "SAE_STREAM_INFERENCE_DEVICE: cuda",
                    "SAE_STREAM_INFERENCE_DEVICE: cpu")))
        .singleElement()
        .asString()
        .isEqualTo("streams-gpu: reserves a GPU but does not configure device cuda");
    assertThat(
            ComposeChecks.gpuProfileReservesAnNvidiaDevice(
                broken("streams-gpu", "profiles: [\"gpu\"]", "profiles: [\"cuda\"]")))
        .containsExactly("no service has the gpu profile");
  }

  @Test
  void theDemoProducerFeedsWhatIsTrainedAndServed() {
    assertThat(ComposeChecks.demoProducerFeedsTheApps(stack())).isEmpty();
  }

  @Test
  void aDemoProducerOfAnotherShapeIsReported() {
    assertThat(
            ComposeChecks.demoProducerFeedsTheApps(
                broken("producer", "SAE_STREAM_D_IN: \"512\"", "SAE_STREAM_D_IN: \"768\"")))
        .singleElement()
        .asString()
        .startsWith("producer: no trainer learns synthetic-llm / blocks.8.hook_resid_pre");
    assertThat(
            ComposeChecks.demoProducerFeedsTheApps(
                broken(
                    "producer",
                    "SAE_STREAM_HOOK_NAME: blocks.8",
                    "SAE_STREAM_HOOK_NAME: blocks.9")))
        .hasSize(2);
    assertThat(
            ComposeChecks.demoProducerFeedsTheApps(
                broken("producer", "profiles: [\"demo\"]", "profiles: [\"extra\"]")))
        .containsExactly("no service of the demo profile runs produce");
  }

  // ---------------------------------------------------------------- topics

  @Test
  void everyTopicAnAppUsesIsCreatedWithTheSettingsItNeeds() {
    assertThat(ComposeChecks.topicsAreCreated(stack())).isEmpty();
  }

  @Test
  void aTopicThatIsNeverCreatedIsReported() {
    String advertised = "SAE_STREAM_HTTP_ADVERTISED_HOST: streams\n";
    assertThat(
            ComposeChecks.topicsAreCreated(
                broken(
                    "streams",
                    advertised,
                    advertised + "      SAE_STREAM_TOPICS_FEATURES: sae.features.v2\n")))
        .singleElement()
        .asString()
        .isEqualTo("streams: uses topic sae.features.v2, which is never created");
  }

  @Test
  void aTopicCreatedWithoutTheSettingsTheAppsNeedIsReported(@TempDir Path dir) throws IOException {
    Path project = copyOfProject(dir);
    replaceIn(
        project.resolve("docker/create-topics.sh"),
        "create sae.checkpoints.v1 1 cleanup.policy=compact max.message.bytes=1048576",
        "create sae.checkpoints.v1 1 cleanup.policy=compact");
    replaceIn(
        project.resolve("docker/create-topics.sh"),
        "create sae.dlq.v1 1 max.message.bytes=8388608",
        "create sae.dlq.v1 1");

    assertThat(ComposeChecks.topicsAreCreated(ComposeStack.parse(COMPOSE, project)))
        .anyMatch(p -> p.startsWith("sae.checkpoints.v1 is created with"))
        .anyMatch(p -> p.startsWith("sae.dlq.v1 takes records up to 1048588 bytes"));
    assertThat(
            ComposeChecks.topicsAreCreated(
                broken(
                    "producer",
                    "- \"4000\"\n",
                    "- \"4000\"\n      - --max-request-size\n      - \"16777216\"\n")))
        .singleElement()
        .asString()
        .isEqualTo(
            "sae.activations.v1 takes records up to 8388608 bytes, producer sends up to 16777216");
  }
}
