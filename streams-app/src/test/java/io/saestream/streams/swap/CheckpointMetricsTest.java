package io.saestream.streams.swap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.schema.checkpoint.RejectionReason;
import io.saestream.streams.config.InferenceSettings;
import io.saestream.streams.config.SaeDeployment;
import io.saestream.streams.inference.InferenceEngine;
import io.saestream.streams.registry.SaeLoader;
import io.saestream.streams.registry.SaeRegistry;
import io.saestream.streams.testing.SaeLensFixtures;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.List;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.apache.kafka.common.MetricName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointMetricsTest {

  @TempDir Path tmp;

  private InferenceEngine engine;
  private SaeLoader loader;
  private SaeRegistry registry;

  @BeforeEach
  void deploy() {
    engine = InferenceEngine.create(InferenceSettings.defaults());
    loader = new SaeLoader(engine);
    registry =
        SaeRegistry.load(
            List.of(
                new SaeDeployment(
                    "topk", SaeLensFixtures.saeDir(SwapFixtures.TOPK), null, null, null, 4)),
            loader);
  }

  @AfterEach
  void close() {
    registry.close();
    engine.close();
  }

  @Test
  void everyReasonStartsAtZeroAndCountsItsOwnRejections() {
    try (CheckpointMetrics metrics = new CheckpointMetrics("m-1", registry)) {
      assertThat(CheckpointMetrics.reasonTags())
          .contains("bad-sha256", "missing-chunk", "bad-signature", "invalid-checkpoint")
          .hasSize(RejectionReason.values().length + SwapRejectionReason.values().length);
      assertThat(CheckpointMetrics.reasonTags())
          .allSatisfy(r -> assertThat(metrics.rejected(r)).isZero());

      metrics.recordRejected("bad-sha256");
      metrics.recordRejected("bad-sha256");
      metrics.recordRejected("incompatible");

      assertThat(metrics.rejected("bad-sha256")).isEqualTo(2);
      assertThat(metrics.rejectedTotal()).isEqualTo(3);
      assertThatThrownBy(() -> metrics.recordRejected("bored"))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void theActiveVersionFollowsTheRegistryAndSwapsAreCountedPerSae() {
    try (CheckpointMetrics metrics = new CheckpointMetrics("m-2", registry)) {
      assertThat(metrics.activeVersion("topk")).isEqualTo(4);

      registry.swap(
          loader.load(
              new SaeDeployment(
                  "topk", SwapFixtures.scaledEncoder(tmp.resolve("v5"), 2f), null, null, null, 5)));
      metrics.recordSwap("topk");

      assertThat(metrics.activeVersion("topk")).isEqualTo(5);
      assertThat(metrics.swaps("topk")).isEqualTo(1);
      assertThat(metrics.metrics().keySet())
          .extracting(MetricName::name)
          .contains(
              CheckpointMetrics.REJECTED_TOTAL,
              CheckpointMetrics.SWAPS_TOTAL,
              CheckpointMetrics.ACTIVE_VERSION);
    }
  }

  @Test
  void twoFollowersInOneProcessReportOverJmxSideBySide() throws Exception {
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    ObjectName first =
        new ObjectName("sae.stream:type=sae-checkpoint-metrics,client-id=a,sae-id=topk");
    try (CheckpointMetrics a = new CheckpointMetrics("a", registry);
        CheckpointMetrics b = new CheckpointMetrics("b", registry)) {
      assertThat(server.getAttribute(first, CheckpointMetrics.ACTIVE_VERSION)).isEqualTo(4L);
      assertThat(a.swaps("topk")).isEqualTo(b.swaps("topk"));
    }
    assertThat(server.isRegistered(first)).isFalse();
  }
}
