package io.saestream.streams.registry;

import java.util.List;
import java.util.Objects;

/**
 * The SAEs deployed for one hook at the moment it was looked up, with their sessions retained so
 * that a concurrent hot swap cannot close them mid-record. Close it when the record is done.
 *
 * <p>Owned by the caller of {@link SaeRegistry#route}; used by one thread; closing is idempotent.
 */
public final class SaeRoute implements AutoCloseable {

  private final HookKey hook;
  private final List<DeployedSae> saes;
  private boolean closed;

  /** Takes over one retained reference to each SAE's session. */
  SaeRoute(HookKey hook, List<DeployedSae> saes) {
    this.hook = Objects.requireNonNull(hook, "hook");
    this.saes = List.copyOf(saes);
  }

  /** The hook looked up. */
  public HookKey hook() {
    return hook;
  }

  /** The SAEs, never empty, in deployment order. */
  public List<DeployedSae> saes() {
    if (closed) {
      throw new IllegalStateException("route for " + hook + " is closed");
    }
    return saes;
  }

  /** The input width shared by every SAE of the hook. */
  public int dIn() {
    return saes().get(0).dIn();
  }

  /** Releases the sessions. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      for (DeployedSae sae : saes) {
        sae.session().release();
      }
    }
  }
}
