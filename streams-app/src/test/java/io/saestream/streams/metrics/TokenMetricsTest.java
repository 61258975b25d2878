package io.saestream.streams.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The token sensor registered by processors in a TopologyTestDriver: two processors of one thread
 * share it, the totals sum what they record, and the pipeline meters export it.
 */
class TokenMetricsTest {

  private TopologyTestDriver driver;
  private TestInputTopic<byte[], byte[]> first;
  private TestInputTopic<byte[], byte[]> second;
  private TestInputTopic<byte[], byte[]> negative;

  /** Counts one batch of as many tokens as the value has bytes, times {@code sign}. */
  private static final class CountingProcessor implements Processor<byte[], byte[], Void, Void> {
    private final int sign;
    private @Nullable TokenMetrics tokens;

    CountingProcessor(int sign) {
      this.sign = sign;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
      tokens = TokenMetrics.register(context.metrics());
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
      Objects.requireNonNull(tokens, "init() first").record(sign * record.value().length);
    }
  }

  @BeforeEach
  void startDriver() {
    Topology topology = new Topology();
    topology.addSource("first-source", "first");
    topology.addProcessor("first-count", () -> new CountingProcessor(1), "first-source");
    topology.addSource("second-source", "second");
    topology.addProcessor("second-count", () -> new CountingProcessor(1), "second-source");
    topology.addSource("negative-source", "negative");
    topology.addProcessor("negative-count", () -> new CountingProcessor(-1), "negative-source");
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "token-metrics-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
    props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
    props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
    driver = new TopologyTestDriver(topology, props);
    first = driver.createInputTopic("first", new ByteArraySerializer(), new ByteArraySerializer());
    second =
        driver.createInputTopic("second", new ByteArraySerializer(), new ByteArraySerializer());
    negative =
        driver.createInputTopic("negative", new ByteArraySerializer(), new ByteArraySerializer());
  }

  @AfterEach
  void stopDriver() {
    driver.close();
  }

  @Test
  void totalsSumTheTokensOfEveryProcessorOfTheThread() {
    first.pipeInput(new byte[4]);
    first.pipeInput(new byte[8]);
    second.pipeInput(new byte[0]);
    second.pipeInput(new byte[20]);

    assertThat(TokenMetrics.tokensTotal(driver.metrics())).isEqualTo(32);
    assertThat(TokenMetrics.batchesTotal(driver.metrics())).isEqualTo(4);
    assertThat(TokenMetrics.tokensPerSecond(driver.metrics())).isPositive();
    assertThat(driver.metrics().keySet())
        .filteredOn(n -> n.group().equals(TokenMetrics.GROUP))
        .extracting(n -> n.tags().get(TokenMetrics.THREAD_TAG))
        .as("one series per metric, tagged with the thread")
        .hasSize(3)
        .containsOnly(Thread.currentThread().getName());
  }

  @Test
  void theScrapeShowsTheTokensProcessed() {
    first.pipeInput(new byte[4]);
    second.pipeInput(new byte[8]);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new PipelineMeters<>(driver, TopologyTestDriver::metrics, List.of()).bindTo(registry);

    PrometheusSamples scrape = PrometheusSamples.parse(registry.scrape());
    registry.close();

    assertThat(scrape.value("sae_tokens_processed_total")).isEqualTo(12.0);
    assertThat(scrape.value("sae_batches_processed_total")).isEqualTo(2.0);
  }

  @Test
  void aNegativeTokenCountIsRefused() {
    // A value of one byte stands for a count of -1 here.
    assertThatThrownBy(() -> negative.pipeInput(new byte[1]))
        .rootCause()
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("tokens must be >= 0, was -1");
  }
}
