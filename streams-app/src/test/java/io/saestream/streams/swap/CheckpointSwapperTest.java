package io.saestream.streams.swap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.schema.checkpoint.AssembledCheckpoint;
import io.saestream.schema.checkpoint.CheckpointRelease;
import io.saestream.schema.checkpoint.PayloadSource;
import io.saestream.streams.config.InferenceSettings;
import io.saestream.streams.config.SaeDeployment;
import io.saestream.streams.inference.InferenceEngine;
import io.saestream.streams.registry.DeployedSae;
import io.saestream.streams.registry.SaeLoader;
import io.saestream.streams.registry.SaeRegistry;
import io.saestream.streams.testing.SaeLensFixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the swapper checks in a reassembled checkpoint before it serves it. */
class CheckpointSwapperTest {

  @TempDir Path tmp;

  private InferenceEngine engine;
  private Path workDir;
  private @Nullable SaeRegistry deployed;
  private @Nullable CheckpointSwapper deployedSwapper;

  @BeforeEach
  void createEngine() {
    engine = InferenceEngine.create(InferenceSettings.defaults());
    workDir = tmp.resolve("work");
  }

  private void deploy(SaeDeployment deployment) {
    SaeLoader loader = new SaeLoader(engine);
    deployed = SaeRegistry.load(List.of(deployment), loader);
    deployedSwapper =
        new CheckpointSwapper(deployed, loader, List.of(deployment), 64L << 20, workDir);
  }

  private SaeRegistry registry() {
    return Objects.requireNonNull(deployed, "deploy first");
  }

  private CheckpointSwapper swapper() {
    return Objects.requireNonNull(deployedSwapper, "deploy first");
  }

  private void deployTopk() {
    deploy(SaeDeployment.of("topk", SaeLensFixtures.saeDir(SwapFixtures.TOPK)));
  }

  @AfterEach
  void close() {
    if (deployed != null) {
      deployed.close();
    }
    engine.close();
  }

  private List<Path> leftInWorkDir() throws IOException {
    if (!Files.exists(workDir)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(workDir)) {
      return files.toList();
    }
  }

  private void assertRefused(AssembledCheckpoint checkpoint, String reason, String detail)
      throws IOException {
    DeployedSae before = registry().find(checkpoint.saeId()).orElseThrow();
    assertThatThrownBy(() -> swapper().swap(checkpoint))
        .isInstanceOf(CheckpointRefusedException.class)
        .hasMessageContaining(detail)
        .satisfies(e -> assertThat(((CheckpointRefusedException) e).reasonTag()).isEqualTo(reason));
    DeployedSae after = registry().find(checkpoint.saeId()).orElseThrow();
    assertThat(after).isSameAs(before);
    assertThat(after.session().isClosed()).isFalse();
    assertThat(leftInWorkDir()).isEmpty();
  }

  @Test
  void aGoodCheckpointIsServedUnderItsManifestVersionOnTheDeployedHook() throws Exception {
    deployTopk();
    DeployedSae old = registry().find("topk").orElseThrow();
    Path dir = SwapFixtures.scaledEncoder(tmp.resolve("v3"), 2f);

    DeployedSae replaced =
        swapper().swap(SwapFixtures.assembled(SwapFixtures.release("topk", 3, dir)));

    DeployedSae served = registry().find("topk").orElseThrow();
    assertThat(replaced).isSameAs(old);
    assertThat(served.version()).isEqualTo(3);
    assertThat(served.hook()).isEqualTo(old.hook());
    assertThat(served.dIn()).isEqualTo(32);
    assertThat(served.slots()).isEqualTo(8);
    assertThat(old.session().isClosed()).isTrue();
    assertThat(leftInWorkDir()).isEmpty();
  }

  @Test
  void aPayloadThatIsNotACheckpointArchiveIsRefused() throws IOException {
    deployTopk();
    CheckpointRelease release =
        SwapFixtures.release("topk", 1, SaeLensFixtures.saeDir(SwapFixtures.TOPK));
    CheckpointRelease notAZip =
        new CheckpointRelease(
            "topk",
            1,
            "topk",
            32,
            128,
            8,
            release.cfgJson(),
            PayloadSource.ofBytes(new byte[100]),
            null);

    assertRefused(SwapFixtures.assembled(notAZip), "bad-archive", "archive lacks");
  }

  @Test
  void nonFiniteWeightsAreRefused() throws IOException {
    deployTopk();
    Path dir = SwapFixtures.withNaN(tmp.resolve("nan"));

    assertRefused(
        SwapFixtures.assembled(SwapFixtures.release("topk", 1, dir)),
        "invalid-checkpoint",
        "W_enc");
  }

  @Test
  void aManifestThatMisdescribesThePayloadIsRefused() throws IOException {
    deployTopk();
    CheckpointRelease truthful =
        SwapFixtures.release("topk", 1, SaeLensFixtures.saeDir(SwapFixtures.TOPK));
    CheckpointRelease lying =
        new CheckpointRelease(
            "topk", 1, "topk", 32, 256, 16, truthful.cfgJson(), truthful.payload(), null);

    assertRefused(
        SwapFixtures.assembled(lying),
        "manifest-mismatch",
        "manifest disagrees with the payload's cfg.json: d_sae 256 (manifest) vs 128 (cfg.json),"
            + " k 16 (manifest) vs 8 (cfg.json)");
  }

  @Test
  void anotherDInIsRefused() throws IOException {
    deployTopk();
    AssembledCheckpoint narrow =
        SwapFixtures.assembled(SwapFixtures.release("topk", 1, SaeLensFixtures.saeDir("standard")));

    assertRefused(narrow, "incompatible", "d_in=16 differs from d_in=32 of the deployed SAE");
  }

  @Test
  void aCheckpointTrainedOnAnotherHookIsRefused() throws IOException {
    deployTopk();
    Path dir =
        SwapFixtures.withConfig(
            SwapFixtures.TOPK,
            tmp.resolve("hook"),
            SwapFixtures.hookName("blocks.9.hook_resid_post"));

    assertRefused(
        SwapFixtures.assembled(SwapFixtures.release("topk", 1, dir)),
        "incompatible",
        "cfg.json metadata.hook_name 'blocks.9.hook_resid_post' differs from the deployed"
            + " (synthetic-fixture, blocks.0.hook_resid_post)");
  }

  @Test
  void aHookSetByTheDeploymentIsKeptWhateverTheCheckpointSays() {
    deploy(
        SaeDeployment.of("topk", SaeLensFixtures.saeDir(SwapFixtures.TOPK))
            .withHook("synthetic-fixture", "served-hook"));
    Path dir =
        SwapFixtures.withConfig(
            SwapFixtures.TOPK,
            tmp.resolve("hook"),
            SwapFixtures.hookName("blocks.9.hook_resid_post"));

    swapperSwaps(SwapFixtures.assembled(SwapFixtures.release("topk", 1, dir)));

    assertThat(registry().find("topk").orElseThrow().hook().hookName()).isEqualTo("served-hook");
  }

  private void swapperSwaps(AssembledCheckpoint checkpoint) {
    try {
      swapper().swap(checkpoint);
    } catch (CheckpointRefusedException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void aCheckpointTheDeploymentCannotServeFailsToLoad() throws IOException {
    // K=16 is configured for the gated SAE; a topk replacement has k=8 and cannot report 16.
    deploy(SaeDeployment.of("sae", SaeLensFixtures.saeDir("gated")).withMaxActive(16));

    assertRefused(
        SwapFixtures.assembled(
            SwapFixtures.release("sae", 1, SaeLensFixtures.saeDir(SwapFixtures.TOPK))),
        "load-failed",
        "SAE sae: cannot serve");
  }

  @Test
  void aVersionNotAboveTheServedOneIsRefusedByTheRegistry() throws IOException {
    deploy(
        new SaeDeployment("topk", SaeLensFixtures.saeDir(SwapFixtures.TOPK), null, null, null, 5));

    assertRefused(
        SwapFixtures.assembled(
            SwapFixtures.release("topk", 5, SaeLensFixtures.saeDir(SwapFixtures.TOPK))),
        "incompatible",
        "replacement version 5 is not greater than the deployed version 5");
  }
}
