package io.saestream.trainer.state;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Saves {@link DurableState}s to a {@link StateStore} on its own thread, one at a time, so that the
 * training thread only pays for taking the copies ({@link
 * io.saestream.trainer.training.SaeTrainer#state()}), never for serialising, hashing or fsyncing.
 *
 * <p>At most one save is in flight: {@link #save} refuses while one is (the caller skips and tries
 * again at its next opportunity, so saves never queue up behind a slow disk). Ownership: owns its
 * thread; {@link #close()} waits for the save in flight. Thread-safe.
 */
public final class StateWriter implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(StateWriter.class);

  private final StateStore store;
  private final ExecutorService executor;
  private @Nullable CompletableFuture<Saved> inFlight;

  /**
   * A save that completed.
   *
   * @param generation its generation number
   * @param state what it saved
   */
  public record Saved(long generation, DurableState state) {}

  /** A writer into {@code store}. */
  public StateWriter(StateStore store) {
    this.store = Objects.requireNonNull(store, "store");
    this.executor =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "sae-state-writer");
              t.setDaemon(true);
              return t;
            });
  }

  /** The store written to. */
  public StateStore store() {
    return store;
  }

  /** Whether a save is in flight. */
  public synchronized boolean busy() {
    return inFlight != null && !inFlight.isDone();
  }

  /**
   * Starts saving {@code state}.
   *
   * @throws IllegalStateException while another save is in flight
   */
  public synchronized CompletableFuture<Saved> save(DurableState state) {
    Objects.requireNonNull(state, "state");
    if (busy()) {
      throw new IllegalStateException("a state save is in flight; save after it completes");
    }
    CompletableFuture<Saved> f =
        CompletableFuture.supplyAsync(
            () -> {
              long t0 = System.nanoTime();
              long generation = store.save(state);
              LOG.debug(
                  "saved state generation {} in {} ms",
                  generation,
                  (System.nanoTime() - t0) / 1_000_000);
              return new Saved(generation, state);
            },
            executor);
    inFlight = f;
    return f;
  }

  /** Waits for the save in flight, then stops the thread. */
  @Override
  public void close() {
    executor.shutdown();
    try {
      if (!executor.awaitTermination(5, TimeUnit.MINUTES)) {
        LOG.warn("a state save is still running after 5 minutes; abandoning it");
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      executor.shutdownNow();
    }
  }
}
