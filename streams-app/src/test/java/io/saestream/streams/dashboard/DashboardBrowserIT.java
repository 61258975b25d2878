package io.saestream.streams.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.saestream.schema.v1.ActivationBatch;
import io.saestream.streams.StreamsApp;
import io.saestream.streams.config.BearerToken;
import io.saestream.streams.config.HttpSettings;
import io.saestream.streams.config.MonitoringSettings;
import io.saestream.streams.config.SaeDeployment;
import io.saestream.streams.config.StreamsAppConfig;
import io.saestream.streams.config.TopicNames;
import io.saestream.streams.testing.ActivationBatches;
import io.saestream.streams.testing.ClusterPerClass;
import io.saestream.streams.testing.SaeLensFixtures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard of a running app, opened in headless Debian Chromium: with traffic flowing and a
 * drift rule that every window of random activations breaks, the page shows live numbers that
 * change and lists the fired alert; a screenshot is saved to {@code
 * target/dashboard-screenshot.png}. Skipped (with the reason) only where {@code chromium} is not
 * installed; CI installs it.
 */
class DashboardBrowserIT {

  private static final String SAE = "topk";
  private static final String RULE = "dashboard-drift";
  private static final int D_IN = 32;
  private static final int TOKENS = 8;
  private static final Duration DEADLINE = Duration.ofSeconds(90);
  private static final Path SCREENSHOT = Path.of("target", "dashboard-screenshot.png");
  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  @RegisterExtension static final ClusterPerClass CLUSTER = new ClusterPerClass();

  @TempDir Path tmp;

  @Test
  void theDashboardShowsLiveNumbersAndTheFiredAlert() throws Exception {
    Optional<Path> chromium = HeadlessChromium.findBinary();
    Assumptions.assumeTrue(
        chromium.isPresent(),
        "Debian chromium is not installed (apt-get install chromium); CI installs it");

    String suffix = UUID.randomUUID().toString().substring(0, 8);
    TopicNames topics = CLUSTER.get().createTopics("dashboard", 1);
    String alerts = "dashboard.alerts." + suffix;
    String rules = "dashboard.rules." + suffix;
    CLUSTER.get().createMonitoringTopics(alerts, rules);
    // FVU of random activations through the fixture SAE is far above 0.001: every closed window
    // of the SAE breaks this rule.
    Path rulesFile = tmp.resolve("rules.yaml");
    Files.writeString(
        rulesFile,
        String.join(
            "\n",
            "rules:",
            "  - id: " + RULE,
            "    type: drift",
            "    sae-id: " + SAE,
            "    severity: CRITICAL",
            "    window: 2s",
            "    metric: fvu",
            "    threshold: 0.001",
            ""));
    String token = "dashboard-test-token-" + suffix;
    StreamsAppConfig config =
        CLUSTER
            .get()
            .appConfig(
                "dashboard-" + suffix,
                topics,
                tmp.resolve("state"),
                1,
                List.of(SaeDeployment.of(SAE, SaeLensFixtures.saeDir("topk_rescale_folded"))))
            .withMonitoring(
                MonitoringSettings.defaults()
                    .withEnabled(true)
                    .withTopics(alerts, rules, "dashboard.aggregates." + suffix)
                    .withRulesFile(rulesFile)
                    .withStatsWindow(Duration.ofSeconds(2))
                    .withWindowGrace(Duration.ofMillis(500)))
            .withHttp(HttpSettings.ephemeral().withBearerToken(BearerToken.fromText(token)));

    ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor();
    KafkaProducer<byte[], byte[]> producer = CLUSTER.get().newProducer();
    HeadlessChromium browser = null;
    try (StreamsApp app = CLUSTER.get().startApp(config)) {
      await("app running")
          .atMost(DEADLINE)
          .until(() -> app.kafkaStreams().state() == KafkaStreams.State.RUNNING);
      int port = app.httpPort().orElseThrow();
      ScheduledFuture<?> traffic = startTraffic(pacer, producer, topics);

      browser = HeadlessChromium.start(chromium.get(), tmp.resolve("chromium-profile"), 1440, 1800);
      HeadlessChromium page = browser;
      page.navigate("http://127.0.0.1:" + port + "/#token=" + token);

      await("tokens on the page")
          .atMost(DEADLINE)
          .pollInterval(Duration.ofMillis(250))
          .until(() -> number(page, "#tokens-total") > 0);
      double first = number(page, "#tokens-total");
      await("the token count to move on")
          .atMost(DEADLINE)
          .pollInterval(Duration.ofMillis(250))
          .failFast("traffic stopped", traffic::isDone)
          .until(() -> number(page, "#tokens-total") > first);
      await("a throughput above zero")
          .atMost(DEADLINE)
          .pollInterval(Duration.ofMillis(250))
          .until(() -> number(page, "#tokens-per-s") > 0);

      await("the alert in the feed")
          .atMost(DEADLINE)
          .pollInterval(Duration.ofMillis(500))
          .failFast("traffic stopped", traffic::isDone)
          .until(
              () ->
                  page.evaluate(
                          "[...document.querySelectorAll('#alerts-list li')]"
                              + ".some(li => li.dataset.ruleId === '"
                              + RULE
                              + "')")
                      .asBoolean());
      String alertText =
          page.evaluate("document.querySelector('#alerts-list li').textContent").asText();
      assertThat(alertText).contains(RULE).contains("CRITICAL").contains(SAE);
      assertThat(page.evaluate("document.querySelector('#status').textContent").asText())
          .as("the status line reports no failed request")
          .startsWith("live");

      byte[] png = page.screenshot();
      Files.createDirectories(SCREENSHOT.getParent());
      Files.write(SCREENSHOT, png);
      assertThat(png.length).as("screenshot bytes").isGreaterThan(10_000);
      assertThat(Arrays.copyOf(png, PNG_SIGNATURE.length)).isEqualTo(PNG_SIGNATURE);
      assertThat(page.pageErrors()).as("errors in the page").isEmpty();
    } finally {
      pacer.shutdownNow();
      producer.close();
      if (browser != null) {
        browser.close();
      }
    }
  }

  /** The raw value behind a live number of the page ({@code data-value}), NaN when none yet. */
  private static double number(HeadlessChromium page, String selector) {
    String value =
        page.evaluate("document.querySelector('" + selector + "').dataset.value ?? ''").asText();
    return value.isEmpty() ? Double.NaN : Double.parseDouble(value);
  }

  /** One batch of {@value #TOKENS} random tokens every 100 ms, over 4 sequences. */
  private static ScheduledFuture<?> startTraffic(
      ScheduledExecutorService pacer, KafkaProducer<byte[], byte[]> producer, TopicNames topics) {
    AtomicInteger sent = new AtomicInteger();
    return pacer.scheduleAtFixedRate(
        () -> {
          int i = sent.getAndIncrement();
          ActivationBatch batch =
              ActivationBatches.builder(
                      ActivationBatches.FIXTURE_MODEL,
                      ActivationBatches.FIXTURE_HOOK,
                      "seq-" + i % 4,
                      TOKENS,
                      D_IN)
                  .setStartPosition(i / 4 * TOKENS)
                  .setDtype(io.saestream.schema.v1.Dtype.F32)
                  .setData(littleEndian(ActivationBatches.values(TOKENS, D_IN, i)))
                  .build();
          try {
            producer
                .send(
                    new ProducerRecord<>(
                        topics.activations(),
                        batch.getSequenceId().getBytes(StandardCharsets.UTF_8),
                        CLUSTER.get().encode(topics.activations(), batch)))
                .get();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          } catch (ExecutionException e) {
            throw new IllegalStateException("producing batch " + i, e);
          }
        },
        0,
        100,
        TimeUnit.MILLISECONDS);
  }

  private static java.nio.ByteBuffer littleEndian(float[] values) {
    java.nio.ByteBuffer b =
        java.nio.ByteBuffer.allocate(values.length * Float.BYTES)
            .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    return b.flip();
  }
}
