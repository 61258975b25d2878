package io.saestream.synthetic.produce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.schema.registry.SchemaRegistryClientConfig;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ProducerSettingsTest {

  private static final SchemaRegistryClientConfig REGISTRY =
      SchemaRegistryClientConfig.of("http://localhost:8081");

  @Test
  void kafkaPropertiesAreIdempotentWithAcksAllAndRoomForLargeRecords() {
    Map<String, Object> p =
        ProducerSettings.defaults("broker:9092", "http://localhost:8081")
            .withExtraProperties(Map.of("security.protocol", "SSL", "linger.ms", "50"))
            .toKafkaProperties();
    assertThat(p)
        .containsEntry("bootstrap.servers", "broker:9092")
        .containsEntry("enable.idempotence", true)
        .containsEntry("acks", "all")
        .containsEntry("max.request.size", 8 << 20)
        .containsEntry("batch.size", 1 << 20)
        .containsEntry("compression.type", "none")
        .containsEntry("buffer.memory", 32L << 20)
        .containsEntry("security.protocol", "SSL")
        // Extra properties come last and win.
        .containsEntry("linger.ms", "50");
  }

  @Test
  void bufferMemoryGrowsWithTheLargestRecord() {
    ProducerSettings settings =
        new ProducerSettings(
            "b:9092", REGISTRY, "t", Duration.ZERO, 0, 64 << 20, "LZ4", "c", Map.of());
    assertThat(settings.compressionType()).isEqualTo("lz4");
    assertThat(settings.toKafkaProperties()).containsEntry("buffer.memory", 256L << 20);
  }

  static Stream<Arguments> invalid() {
    return Stream.of(
        Arguments.of(
            (Supplier<?>)
                () ->
                    new ProducerSettings(
                        " ", REGISTRY, "t", Duration.ZERO, 0, 1, "none", "c", Map.of()),
            "bootstrap servers must not be blank"),
        Arguments.of(
            (Supplier<?>)
                () ->
                    new ProducerSettings(
                        "b", REGISTRY, "", Duration.ZERO, 0, 1, "none", "c", Map.of()),
            "topic must not be blank"),
        Arguments.of(
            (Supplier<?>)
                () ->
                    new ProducerSettings(
                        "b", REGISTRY, "t", Duration.ofMillis(-1), 0, 1, "none", "c", Map.of()),
            "linger must be in [0, 2^31) ms, was PT-0.001S"),
        Arguments.of(
            (Supplier<?>)
                () ->
                    new ProducerSettings(
                        "b", REGISTRY, "t", Duration.ZERO, -1, 1, "none", "c", Map.of()),
            "batch size must be >= 0 bytes, was -1"),
        Arguments.of(
            (Supplier<?>)
                () ->
                    new ProducerSettings(
                        "b", REGISTRY, "t", Duration.ZERO, 0, 0, "none", "c", Map.of()),
            "max request size must be > 0 bytes, was 0"),
        Arguments.of(
            (Supplier<?>)
                () ->
                    new ProducerSettings(
                        "b", REGISTRY, "t", Duration.ZERO, 0, 1, "brotli", "c", Map.of()),
            "compression must be one of [gzip, lz4, none, snappy, zstd], was 'brotli'"),
        Arguments.of(
            (Supplier<?>)
                () ->
                    new ProducerSettings(
                        "b",
                        REGISTRY,
                        "t",
                        Duration.ZERO,
                        0,
                        1,
                        "none",
                        "c",
                        Map.of("value.serializer", "x")),
            "producer property 'value.serializer' is fixed by sae-stream and cannot be set"),
        Arguments.of(
            (Supplier<?>) () -> new ProduceLimits(0, null, 0), "record count must be > 0, was 0"),
        Arguments.of(
            (Supplier<?>) () -> new ProduceLimits(1, Duration.ZERO, 0),
            "duration must be > 0, was PT0S"),
        Arguments.of(
            (Supplier<?>) () -> new ProduceLimits(1, null, -5),
            "rate must be finite and >= 0 tokens/s (0 = as fast as possible), was -5.0"),
        Arguments.of(
            (Supplier<?>) () -> new ProduceLimits(1, null, Double.POSITIVE_INFINITY),
            "rate must be finite and >= 0 tokens/s (0 = as fast as possible), was Infinity"));
  }

  @ParameterizedTest
  @MethodSource("invalid")
  void invalidSettingsAreRejectedWithAClearMessage(Supplier<?> build, String message) {
    assertThatThrownBy(build::get).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
  }

  @Test
  void summaryDescribesItself() {
    ProduceSummary summary = new ProduceSummary(10, 640, 3 << 20, Duration.ofSeconds(2));
    assertThat(summary.tokensPerSecond()).isEqualTo(320.0);
    assertThat(summary.describe())
        .isEqualTo("10 records, 640 tokens, 3.0 MiB of activations in 2.0 s (320 tokens/s)");
    assertThat(new ProduceSummary(0, 0, 0, Duration.ZERO).tokensPerSecond()).isZero();
  }
}
