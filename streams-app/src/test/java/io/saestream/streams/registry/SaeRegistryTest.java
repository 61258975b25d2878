package io.saestream.streams.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.streams.config.InferenceSettings;
import io.saestream.streams.config.SaeDeployment;
import io.saestream.streams.inference.InferenceEngine;
import io.saestream.streams.testing.ActivationBatches;
import io.saestream.streams.testing.SaeLensFixtures;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SaeRegistryTest {

  private static final String MODEL = ActivationBatches.FIXTURE_MODEL;
  private static final String HOOK = ActivationBatches.FIXTURE_HOOK;

  private InferenceEngine engine;
  private SaeLoader loader;

  @BeforeEach
  void createEngine() {
    engine = InferenceEngine.create(InferenceSettings.defaults());
    loader = new SaeLoader(engine);
  }

  @AfterEach
  void closeEngine() {
    engine.close();
  }

  @Test
  void routesAHookToItsSaesInDeploymentOrder() {
    try (SaeRegistry registry =
        SaeRegistry.load(
            List.of(
                SaeDeployment.of("gated", SaeLensFixtures.saeDir("gated")),
                SaeDeployment.of("std", SaeLensFixtures.saeDir("standard"))
                    .withHook(MODEL, "other"),
                SaeDeployment.of("topk", SaeLensFixtures.saeDir("topk_rescale_folded"))),
            loader)) {
      assertThat(registry.hooks())
          .containsExactly(new HookKey(MODEL, HOOK), new HookKey(MODEL, "other"));
      try (SaeRoute route = registry.route(MODEL, HOOK).orElseThrow()) {
        assertThat(route.saes()).extracting(DeployedSae::saeId).containsExactly("gated", "topk");
        assertThat(route.dIn()).isEqualTo(32);
        assertThat(route.hook()).isEqualTo(new HookKey(MODEL, HOOK));
      }
      assertThat(registry.route(MODEL, "blocks.1.hook_mlp_out")).isEmpty();
      assertThat(registry.route("other-model", HOOK)).isEmpty();
    }
  }

  @Test
  void modelAndHookComeFromTheCheckpointUnlessOverridden() {
    DeployedSae fromMetadata =
        loader.load(SaeDeployment.of("a", SaeLensFixtures.saeDir("standard")));
    DeployedSae overridden =
        loader.load(SaeDeployment.of("b", SaeLensFixtures.saeDir("standard")).withHook("m", "h"));
    try {
      assertThat(fromMetadata.hook()).isEqualTo(new HookKey(MODEL, HOOK));
      assertThat(fromMetadata.dIn()).isEqualTo(16);
      assertThat(fromMetadata.dSae()).isEqualTo(64);
      assertThat(fromMetadata.slots()).isEqualTo(64);
      assertThat(fromMetadata.architecture()).isEqualTo("standard");
      assertThat(overridden.hook()).isEqualTo(new HookKey("m", "h"));
    } finally {
      fromMetadata.session().close();
      overridden.session().close();
    }
  }

  @Test
  void maxActiveSetsK() {
    DeployedSae sae =
        loader.load(SaeDeployment.of("g", SaeLensFixtures.saeDir("gated")).withMaxActive(16));
    try {
      assertThat(sae.slots()).isEqualTo(16);
    } finally {
      sae.session().close();
    }
  }

  @Test
  void aBatchTopKTrainingCheckpointIsServedAsJumpRelu() {
    DeployedSae sae =
        loader.load(
            SaeDeployment.of(
                "btk",
                SaeLensFixtures.root()
                    .resolve("batchtopk_as_jumprelu")
                    .resolve("training_checkpoint")));
    try {
      assertThat(sae.architecture()).isEqualTo("jumprelu");
    } finally {
      sae.session().close();
    }
  }

  @Test
  void aMissingDirectoryNamesTheSae() {
    assertThatThrownBy(() -> loader.load(SaeDeployment.of("ghost", Path.of("/no/such/sae"))))
        .isInstanceOf(DeploymentException.class)
        .hasMessageStartingWith("SAE ghost: /no/such/sae")
        .hasMessageContaining("does not exist");
  }

  @Test
  void maxActiveOnATopkSaeOtherThanItsKIsRefused() {
    assertThatThrownBy(
            () ->
                loader.load(
                    SaeDeployment.of("t", SaeLensFixtures.saeDir("topk_rescale_folded"))
                        .withMaxActive(4)))
        .isInstanceOf(DeploymentException.class)
        .hasMessageStartingWith("SAE t: cannot serve")
        .hasMessageContaining("k=8");
  }

  @Test
  void duplicateIdsAreRefusedAndEverySessionClosed() {
    DeployedSae first = loader.load(SaeDeployment.of("same", SaeLensFixtures.saeDir("gated")));
    DeployedSae second = loader.load(SaeDeployment.of("same", SaeLensFixtures.saeDir("gated")));

    assertThatThrownBy(() -> SaeRegistry.of(List.of(first, second)))
        .isInstanceOf(DeploymentException.class)
        .hasMessage("SAE same: sae-id is deployed twice");
    assertThat(first.session().isClosed()).isTrue();
    assertThat(second.session().isClosed()).isTrue();
  }

  @Test
  void saesOfOneHookMustShareDIn() {
    assertThatThrownBy(
            () ->
                SaeRegistry.load(
                    List.of(
                        SaeDeployment.of("wide", SaeLensFixtures.saeDir("gated")),
                        SaeDeployment.of("narrow", SaeLensFixtures.saeDir("standard"))),
                    loader))
        .isInstanceOf(DeploymentException.class)
        .hasMessageContaining("SAE narrow: d_in=16 differs from d_in=32 of SAE wide");
  }

  @Test
  void aRouteKeepsItsSessionsOpenAcrossRegistryClose() {
    SaeRegistry registry =
        SaeRegistry.load(List.of(SaeDeployment.of("g", SaeLensFixtures.saeDir("gated"))), loader);
    Optional<SaeRoute> found = registry.route(MODEL, HOOK);
    SaeRoute route = found.orElseThrow();
    DeployedSae sae = route.saes().get(0);

    registry.close();
    float sse = sae.session().analyze(FloatBuffer.wrap(new float[32]), 1, a -> a.sse(0));
    assertThat(sse).isFinite();

    route.close();
    assertThatThrownBy(() -> sae.session().analyze(FloatBuffer.wrap(new float[32]), 1, a -> 0))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> registry.route(MODEL, HOOK))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("SAE registry is closed");
    assertThatThrownBy(route::saes).isInstanceOf(IllegalStateException.class);
  }
}
