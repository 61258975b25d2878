package io.saestream.streams.testing;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One {@link SaeStreamCluster} (in-JVM broker and schema registry) per test class: started before
 * the class's first test, closed after its last. Register it on a static field with
 * {@code @RegisterExtension}; {@link #get()} is the running cluster. Used by the thread running the
 * class.
 */
public final class ClusterPerClass implements BeforeAllCallback, AfterAllCallback {

  private @Nullable SaeStreamCluster cluster;

  @Override
  public void beforeAll(ExtensionContext context) {
    cluster = SaeStreamCluster.start();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    SaeStreamCluster running = cluster;
    cluster = null;
    if (running != null) {
      running.close();
    }
  }

  /** The running cluster. */
  public SaeStreamCluster get() {
    SaeStreamCluster running = cluster;
    if (running == null) {
      throw new IllegalStateException("the cluster runs only while its test class does");
    }
    return running;
  }
}
