package io.saestream.streams.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.saestream.streams.config.InferenceSettings;
import io.saestream.streams.config.SaeDeployment;
import io.saestream.streams.inference.InferenceEngine;
import io.saestream.streams.registry.SaeLoader;
import io.saestream.streams.registry.SaeRegistry;
import io.saestream.streams.testing.ActivationBatches;
import io.saestream.streams.testing.SaeLensFixtures;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The version gauge per SAE follows the registry through a hot swap and its close. */
class SaeModelMetersTest {

  private static final Map<String, String> TOPK =
      Map.of(
          "sae_id", "topk",
          "model_id", ActivationBatches.FIXTURE_MODEL,
          "hook_name", ActivationBatches.FIXTURE_HOOK);

  private InferenceEngine engine;
  private SaeLoader loader;
  private SaeRegistry saes;
  private PrometheusMeterRegistry registry;

  @BeforeEach
  void deploy() {
    engine = InferenceEngine.create(InferenceSettings.defaults());
    loader = new SaeLoader(engine);
    saes =
        SaeRegistry.load(
            List.of(deployment("topk", "topk_rescale_folded", 4), deployment("gated", "gated", 0)),
            loader);
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new SaeModelMeters(saes).bindTo(registry);
  }

  @AfterEach
  void close() {
    registry.close();
    saes.close();
    engine.close();
  }

  @Test
  void eachSaeHasAVersionGaugeTaggedWithItsHook() {
    PrometheusSamples scrape = PrometheusSamples.parse(registry.scrape());

    assertThat(scrape.value("sae_model_version", TOPK)).isEqualTo(4.0);
    assertThat(scrape.value("sae_model_version", Map.of("sae_id", "gated"))).isZero();
    assertThat(scrape.find("sae_model_version", Map.of())).hasSize(2);
  }

  @Test
  void theVersionGaugeFollowsAHotSwap() {
    saes.swap(loader.load(deployment("topk", "topk_rescale_folded", 7)));

    PrometheusSamples scrape = PrometheusSamples.parse(registry.scrape());

    assertThat(scrape.value("sae_model_version", TOPK)).isEqualTo(7.0);
    assertThat(scrape.value("sae_model_version", Map.of("sae_id", "gated"))).isZero();
  }

  @Test
  void aClosedRegistryServesNoVersion() {
    saes.close();

    assertThat(PrometheusSamples.parse(registry.scrape()).value("sae_model_version", TOPK)).isNaN();
  }

  private static SaeDeployment deployment(String id, String fixture, long version) {
    return new SaeDeployment(id, SaeLensFixtures.saeDir(fixture), null, null, null, version);
  }
}
