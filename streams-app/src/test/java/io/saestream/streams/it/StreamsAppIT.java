package io.saestream.streams.it;

import io.saestream.streams.testing.SaeStreamCluster;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The streams app on a real in-JVM KRaft broker and schema registry, exactly-once: every good batch
 * yields exactly one FeatureBatch and one ReconstructionStats per SAE, every bad one exactly one
 * dead letter, as seen by a read-committed consumer, also while a second instance joins. The
 * scenarios live in {@link StreamsAppScenarios}, shared with the Testcontainers variant.
 */
class StreamsAppIT {

  private static SaeStreamCluster cluster;
  private static StreamsAppScenarios scenarios;

  @TempDir Path stateDirs;

  @BeforeAll
  static void startCluster() {
    cluster = SaeStreamCluster.start();
    scenarios = new StreamsAppScenarios(cluster);
  }

  @AfterAll
  static void stopCluster() {
    cluster.close();
  }

  @Test
  void goodAndBadBatchesEachEndUpExactlyOnceInTheirTopic() throws Exception {
    scenarios.goodAndBadBatchesEachEndUpExactlyOnceInTheirTopic(stateDirs);
  }

  @Test
  void aSecondInstanceJoiningMidStreamLosesAndDuplicatesNothing() throws Exception {
    scenarios.aSecondInstanceJoiningMidStreamLosesAndDuplicatesNothing(stateDirs);
  }
}
