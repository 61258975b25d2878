package io.saestream.streams.swap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.saestream.streams.config.InferenceSettings;
import io.saestream.streams.config.SaeDeployment;
import io.saestream.streams.inference.InferenceEngine;
import io.saestream.streams.registry.DeployedSae;
import io.saestream.streams.registry.DeploymentException;
import io.saestream.streams.registry.SaeLoader;
import io.saestream.streams.registry.SaeRegistry;
import io.saestream.streams.registry.SaeRoute;
import io.saestream.streams.testing.ActivationBatches;
import io.saestream.streams.testing.SaeLensFixtures;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SaeRegistry#swap}: atomic replacement, reference-counted release of the old session. */
class SaeRegistrySwapTest {

  private static final String MODEL = ActivationBatches.FIXTURE_MODEL;
  private static final String HOOK = ActivationBatches.FIXTURE_HOOK;
  private static final int D_IN = 32;

  @TempDir Path tmp;

  private InferenceEngine engine;
  private SaeLoader loader;
  private SaeRegistry registry;

  @BeforeEach
  void deployVersionZero() {
    engine = InferenceEngine.create(InferenceSettings.defaults());
    loader = new SaeLoader(engine);
    registry =
        SaeRegistry.load(
            List.of(SaeDeployment.of("topk", SaeLensFixtures.saeDir(SwapFixtures.TOPK))), loader);
  }

  @AfterEach
  void close() {
    registry.close();
    engine.close();
  }

  private DeployedSae load(String id, Path dir, long version) {
    return loader.load(new SaeDeployment(id, dir, null, null, null, version));
  }

  private static float firstValue(DeployedSae sae, float[] x) {
    return sae.session().analyze(FloatBuffer.wrap(x), 1, a -> a.value(0, 0));
  }

  @Test
  void aSwapIsSeenByNewRoutesWhileOldRoutesFinishOnTheOldSession() {
    float[] x = ActivationBatches.values(1, D_IN, 3);
    SaeRoute before = registry.route(MODEL, HOOK).orElseThrow();
    DeployedSae old = before.saes().get(0);
    DeployedSae doubled = load("topk", SwapFixtures.scaledEncoder(tmp.resolve("x2"), 2f), 1);

    DeployedSae replaced = registry.swap(doubled);

    assertThat(replaced).isSameAs(old);
    assertThat(registry.find("topk")).contains(doubled);
    try (SaeRoute after = registry.route(MODEL, HOOK).orElseThrow()) {
      assertThat(after.saes()).containsExactly(doubled);
      // Powers of two scale the encoder exactly, so the latents double exactly.
      assertThat(firstValue(after.saes().get(0), x)).isEqualTo(2 * firstValue(old, x));
    }
    assertThat(old.session().isClosed()).isTrue();
    assertThat(firstValue(old, x)).isPositive();

    before.close();

    assertThatThrownBy(() -> firstValue(old, x))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("SAE session topk is closed");
    assertThat(old.session().tryRetain()).isFalse();
  }

  @Test
  void aSwapMustKeepHookAndDInAndRaiseTheVersion() {
    DeployedSae sameVersion = load("topk", SaeLensFixtures.saeDir(SwapFixtures.TOPK), 0);
    DeployedSae otherHook =
        loader.load(
            new SaeDeployment(
                "topk", SaeLensFixtures.saeDir(SwapFixtures.TOPK), MODEL, "other", null, 1));
    DeployedSae narrow = load("topk", SaeLensFixtures.saeDir("standard"), 1);
    DeployedSae stranger = load("stranger", SaeLensFixtures.saeDir(SwapFixtures.TOPK), 1);
    try {
      assertThatThrownBy(() -> registry.swap(sameVersion))
          .isInstanceOf(DeploymentException.class)
          .hasMessage("SAE topk: replacement version 0 is not greater than the deployed version 0");
      assertThatThrownBy(() -> registry.swap(otherHook))
          .isInstanceOf(DeploymentException.class)
          .hasMessageContaining("replacement reads (synthetic-fixture, other)");
      assertThatThrownBy(() -> registry.swap(narrow))
          .isInstanceOf(DeploymentException.class)
          .hasMessage("SAE topk: replacement has d_in=16, the deployed SAE has d_in=32");
      assertThatThrownBy(() -> registry.swap(stranger))
          .isInstanceOf(DeploymentException.class)
          .hasMessage("SAE stranger: is not deployed, cannot swap it");
      assertThat(registry.find("topk").orElseThrow().version()).isZero();
      assertThat(registry.find("topk").orElseThrow().session().isClosed()).isFalse();
    } finally {
      for (DeployedSae s : List.of(sameVersion, otherHook, narrow, stranger)) {
        s.session().close();
      }
    }
  }

  @Test
  void aClosedRegistryRefusesSwaps() {
    DeployedSae next = load("topk", SaeLensFixtures.saeDir(SwapFixtures.TOPK), 1);
    registry.close();
    try {
      assertThatThrownBy(() -> registry.swap(next))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("SAE registry is closed");
    } finally {
      next.session().close();
    }
  }

  @Test
  void concurrentAnalyzeCallsNeverMeetAClosedSessionWhileVersionsAreSwapped() throws Exception {
    int threads = 4;
    int swaps = 8;
    List<DeployedSae> versions = new ArrayList<>();
    for (int v = 1; v <= swaps; v++) {
      versions.add(load("topk", SaeLensFixtures.saeDir(SwapFixtures.TOPK), v));
    }
    List<DeployedSae> replaced = new ArrayList<>();
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong completed = new AtomicLong();
    CountDownLatch running = new CountDownLatch(threads);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<Long>> calls = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      float[] x = ActivationBatches.values(4, D_IN, t);
      calls.add(
          pool.submit(
              () -> {
                long n = 0;
                long lastVersion = -1;
                running.countDown();
                while (!stop.get()) {
                  try (SaeRoute route = registry.route(MODEL, HOOK).orElseThrow()) {
                    DeployedSae sae = route.saes().get(0);
                    if (sae.version() < lastVersion) {
                      failures.add(
                          new AssertionError(
                              "version went back " + lastVersion + " -> " + sae.version()));
                    }
                    lastVersion = sae.version();
                    float sse = sae.session().analyze(FloatBuffer.wrap(x), 4, a -> a.sse(0));
                    if (!Float.isFinite(sse)) {
                      failures.add(new AssertionError("sse " + sse));
                    }
                    n++;
                    completed.incrementAndGet();
                  } catch (RuntimeException | AssertionError e) {
                    failures.add(e);
                  }
                }
                return n;
              }));
    }
    assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
    for (DeployedSae next : versions) {
      replaced.add(registry.swap(next));
      // Let every caller run on each version before the next swap.
      long seen = completed.get();
      await().atMost(Duration.ofSeconds(10)).until(() -> completed.get() >= seen + threads);
    }
    stop.set(true);
    long total = 0;
    for (Future<Long> f : calls) {
      total += f.get(30, TimeUnit.SECONDS);
    }
    pool.shutdown();

    assertThat(failures).isEmpty();
    assertThat(total).isGreaterThan(swaps);
    assertThat(replaced)
        .extracting(DeployedSae::version)
        .containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L);
    // Every replaced session was released once its last call returned; the last one serves on.
    assertThat(replaced).allSatisfy(s -> assertThat(s.session().tryRetain()).isFalse());
    assertThat(registry.find("topk").orElseThrow().version()).isEqualTo(swaps);
    assertThat(registry.find("topk").orElseThrow().session().isClosed()).isFalse();
  }
}
