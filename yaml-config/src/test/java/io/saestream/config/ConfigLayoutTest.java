package io.saestream.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLayoutTest {

  private static final Path BASE = Path.of("/etc/app");

  private static final ConfigLayout LAYOUT =
      ConfigLayout.builder("test", ConfigLayoutTest.class)
          .section("kafka", "bootstrap-servers", "group-id")
          .propertyMap("kafka.properties")
          .section("runtime", "threads", "token")
          .entries("items")
          .secret("runtime.token", "set SAE_STREAM_RUNTIME_TOKEN")
          .readsElsewhere("SAE_STREAM_SIGNING_KEY")
          .build();

  private static ConfigTree read(String yaml, Map<String, String> env) {
    return LAYOUT.read(yaml, BASE, env);
  }

  @Test
  void theLaunchersOwnVariablesAreNotWarnedAbout() {
    Map<String, String> env =
        Map.of(
            "SAE_STREAM_LOG_LEVEL", "DEBUG",
            "SAE_STREAM_KAFKA_LOG_LEVEL", "INFO",
            "SAE_STREAM_DEBUG", "1",
            "SAE_STREAM_JAVA_OPTS", "-Xmx4g",
            "SAE_STREAM_KAFKA_BOOTSTRAP_SERVER", "typo:9092");

    assertThat(LAYOUT.ignoredVariables(env)).containsExactly("SAE_STREAM_KAFKA_BOOTSTRAP_SERVER");
  }

  @Test
  void variablesThatNameKeysOrThatTheLoaderReadsAreNotIgnored() {
    Map<String, String> env =
        Map.of(
            "SAE_STREAM_KAFKA_GROUP_ID", "g",
            "SAE_STREAM_KAFKA_PROPERTIES_SECURITY_PROTOCOL", "SSL",
            "SAE_STREAM_SIGNING_KEY", "secret",
            "SAE_STREAM_KAFKA_PROPERTIES_", "no property name",
            "SAE_STREAM_ITEMS", "lists come from the file only",
            "HOME", "/root");

    assertThat(LAYOUT.ignoredVariables(env))
        .containsExactly("SAE_STREAM_ITEMS", "SAE_STREAM_KAFKA_PROPERTIES_");
  }

  @Test
  void environmentOverridesTheFileAndFillsPropertyMaps() {
    ConfigTree t =
        read(
            "kafka:\n  bootstrap-servers: file:9092\n  properties:\n    acks: all\n",
            Map.of(
                "SAE_STREAM_KAFKA_BOOTSTRAP_SERVERS", "env:9092",
                "SAE_STREAM_RUNTIME_THREADS", "4",
                "SAE_STREAM_KAFKA_PROPERTIES_SASL_JAAS_CONFIG", "jaas",
                "SAE_STREAM_LOG_LEVEL", "DEBUG"));

    assertThat(t.string("kafka.bootstrap-servers", "default")).isEqualTo("env:9092");
    assertThat(t.integer("runtime.threads", 1)).isEqualTo(4);
    assertThat(t.properties("kafka.properties"))
        .containsExactly(Map.entry("acks", "all"), Map.entry("sasl.jaas.config", "jaas"));
  }

  @Test
  void aSecretMayComeFromTheEnvironmentButNotFromTheFile() {
    assertThat(read("", Map.of("SAE_STREAM_RUNTIME_TOKEN", "t")).string("runtime.token", ""))
        .isEqualTo("t");
    assertThatThrownBy(() -> read("runtime:\n  token: t\n", Map.of()))
        .hasMessage(
            "runtime.token must not be written in the configuration file;"
                + " set SAE_STREAM_RUNTIME_TOKEN");
  }

  @Test
  void unknownKeysAreErrorsInTheFormatsWords() {
    assertThatThrownBy(() -> read("kafka:\n  colour: red\n", Map.of()))
        .hasMessage(
            "unknown configuration key 'kafka.colour'; known: bootstrap-servers, group-id,"
                + " properties");
    assertThatThrownBy(() -> read("kafak: {}\n", Map.of()))
        .hasMessage("unknown configuration key 'kafak'; known: kafka, runtime, items");
    ConfigLayout terse =
        ConfigLayout.builder("test", ConfigLayoutTest.class)
            .section("kafka", "group-id")
            .unknownKeyMessage((key, known) -> "unknown key " + key + " " + known)
            .build();
    assertThatThrownBy(() -> terse.read("kafka: {colour: red}", BASE, Map.of()))
        .hasMessage("unknown key kafka.colour [group-id]");
  }

  @Test
  void sectionsMustBeMappingsAndTheFileYaml() {
    assertThatThrownBy(() -> read("kafka: localhost:9092\n", Map.of()))
        .hasMessage("kafka must be a mapping, was STRING");
    assertThatThrownBy(
            () -> read("kafka: localhost:9092\n", Map.of("SAE_STREAM_KAFKA_GROUP_ID", "g")))
        .hasMessage("kafka must be a mapping, was STRING");
    assertThatThrownBy(() -> read("kafka: [unclosed", Map.of()))
        .hasMessageStartingWith("not valid YAML: ");
    assertThatThrownBy(() -> read("- a\n- b\n", Map.of()))
        .hasMessage("the configuration must be a YAML mapping, was a ARRAY");
  }

  @Test
  void anEmptyFileHasNoKeys() {
    assertThat(read("", Map.of()).keys()).isEmpty();
    assertThat(read("# only a comment\n", Map.of()).keys()).isEmpty();
  }

  @Test
  void loadResolvesPathsAgainstTheFileAndNamesItInErrors(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("app.yaml");
    Files.writeString(file, "runtime:\n  threads: 2\n");
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(bad, "runtime:\n  threads: many\n");

    Path state = LAYOUT.load(file, Map.of(), t -> t.resolve("state"));
    assertThat(state).isEqualTo(dir.resolve("state"));
    assertThatThrownBy(() -> LAYOUT.load(bad, Map.of(), t -> t.integer("runtime.threads", 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(bad + ": runtime.threads must be an integer, was 'many'");
    assertThatThrownBy(() -> LAYOUT.load(dir.resolve("missing.yaml"), Map.of(), t -> t))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("missing.yaml");
  }

  @Test
  void everyScalarKeyHasItsOwnVariable() {
    assertThat(LAYOUT.scalarKeys())
        .containsExactly(
            "kafka.bootstrap-servers", "kafka.group-id", "runtime.threads", "runtime.token");
    assertThat(ConfigLayout.environmentVariable("kafka.bootstrap-servers"))
        .isEqualTo("SAE_STREAM_KAFKA_BOOTSTRAP_SERVERS");
  }
}
