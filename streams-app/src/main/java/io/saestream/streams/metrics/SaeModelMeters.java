package io.saestream.streams.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.saestream.streams.registry.DeployedSae;
import io.saestream.streams.registry.SaeRegistry;
import java.util.Objects;

/**
 * One gauge per deployed SAE, {@link MeterNames#MODEL_VERSION}, reading the version the {@link
 * SaeRegistry} serves at each scrape, so that it follows hot swaps; NaN once the registry is
 * closed. The set of SAE ids is fixed when bound (a swap keeps the id, hook and model).
 *
 * <p>Holds the registry (not owned); thread-safe.
 */
final class SaeModelMeters implements MeterBinder {

  private final SaeRegistry saes;

  SaeModelMeters(SaeRegistry saes) {
    this.saes = Objects.requireNonNull(saes, "saes");
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    for (DeployedSae sae : saes.deployed()) {
      String id = sae.saeId();
      Gauge.builder(MeterNames.MODEL_VERSION, saes, r -> version(r, id))
          .description("Version of the SAE served now")
          .tag(MeterNames.SAE_TAG, id)
          .tag(MeterNames.MODEL_TAG, sae.hook().modelId())
          .tag(MeterNames.HOOK_TAG, sae.hook().hookName())
          // Gauges hold their object weakly by default; this one must read the registry while
          // bound.
          .strongReference(true)
          .register(registry);
    }
  }

  private static double version(SaeRegistry registry, String saeId) {
    return registry.find(saeId).map(s -> (double) s.version()).orElse(Double.NaN);
  }
}
