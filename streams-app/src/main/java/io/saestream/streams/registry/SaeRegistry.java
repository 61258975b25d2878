package io.saestream.streams.registry;

import io.saestream.streams.config.SaeDeployment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SAEs this instance serves, by the (model, hook) they read: the only way the topology reaches
 * models. Lookups return a {@link SaeRoute} that retains the sessions, so that replacing an SAE
 * ({@link #swap}: publish the new set, then close the old session) never closes a session under a
 * record in flight: the old session is released when the last route holding it closes.
 *
 * <p>Invariants, checked whenever the set changes: SAE ids are unique, every SAE of one hook has
 * the same {@code d_in} (an ActivationBatch has one width), and a swap keeps the SAE's hook and
 * {@code d_in} and raises its version.
 *
 * <p>Owns the sessions of its SAEs and closes them in {@link #close()}, which must come after the
 * stream threads stop. Thread-safe: the set is an immutable snapshot in a volatile field, read
 * without locking; swaps and close are serialised.
 */
public final class SaeRegistry implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SaeRegistry.class);

  private final Object lock = new Object();
  private volatile Map<HookKey, List<DeployedSae>> byHook;
  private volatile boolean closed;

  private SaeRegistry(Map<HookKey, List<DeployedSae>> byHook) {
    this.byHook = byHook;
  }

  /**
   * A registry serving {@code saes}; it takes ownership of their sessions (and closes them if the
   * set is invalid).
   *
   * @throws DeploymentException when ids repeat or one hook's SAEs disagree on d_in
   */
  public static SaeRegistry of(List<DeployedSae> saes) {
    try {
      return new SaeRegistry(index(saes));
    } catch (RuntimeException e) {
      closeAll(saes, e);
      throw e;
    }
  }

  /**
   * Loads every deployment with {@code loader}, in order; on any failure closes what was loaded and
   * rethrows.
   *
   * @throws DeploymentException naming the SAE that cannot be deployed
   */
  public static SaeRegistry load(List<SaeDeployment> deployments, SaeLoader loader) {
    List<DeployedSae> loaded = new ArrayList<>(deployments.size());
    try {
      for (SaeDeployment deployment : deployments) {
        loaded.add(loader.load(deployment));
      }
    } catch (RuntimeException e) {
      closeAll(loaded, e);
      throw e;
    }
    return of(loaded);
  }

  /**
   * The SAEs deployed for {@code (modelId, hookName)}, retained until the route is closed; empty
   * when none is.
   *
   * @throws IllegalStateException when the registry is closed
   */
  public Optional<SaeRoute> route(String modelId, String hookName) {
    HookKey key = new HookKey(modelId, hookName);
    while (true) {
      if (closed) {
        throw new IllegalStateException("SAE registry is closed");
      }
      List<DeployedSae> saes = byHook.get(key);
      if (saes == null) {
        return Optional.empty();
      }
      List<DeployedSae> retained = new ArrayList<>(saes.size());
      for (DeployedSae sae : saes) {
        if (!sae.session().tryRetain()) {
          break;
        }
        retained.add(sae);
      }
      if (retained.size() == saes.size()) {
        return Optional.of(new SaeRoute(key, retained));
      }
      // A swap closed one of them after publishing its replacement: look again.
      for (DeployedSae sae : retained) {
        sae.session().release();
      }
    }
  }

  /** The SAE deployed as {@code saeId}, if any; its session is not retained. */
  public Optional<DeployedSae> find(String saeId) {
    Objects.requireNonNull(saeId, "saeId");
    for (List<DeployedSae> saes : byHook.values()) {
      for (DeployedSae sae : saes) {
        if (sae.saeId().equals(saeId)) {
          return Optional.of(sae);
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Replaces the SAE deployed under {@code replacement}'s id, atomically: lookups from now on see
   * the replacement, and the old session is closed once the routes still holding it are closed. On
   * success the registry owns the replacement's session; on failure the caller still does.
   *
   * @return the SAE replaced
   * @throws DeploymentException when no SAE has that id, or the replacement reads another hook, has
   *     another {@code d_in} or a version not greater than the one served
   * @throws IllegalStateException when the registry is closed
   */
  public DeployedSae swap(DeployedSae replacement) {
    Objects.requireNonNull(replacement, "replacement");
    DeployedSae replaced;
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("SAE registry is closed");
      }
      String id = replacement.saeId();
      replaced =
          find(id)
              .orElseThrow(() -> new DeploymentException(id, "is not deployed, cannot swap it"));
      if (!replaced.hook().equals(replacement.hook())) {
        throw new DeploymentException(
            id,
            "replacement reads "
                + replacement.hook()
                + ", the deployed SAE reads "
                + replaced.hook());
      }
      if (replaced.dIn() != replacement.dIn()) {
        throw new DeploymentException(
            id,
            "replacement has d_in="
                + replacement.dIn()
                + ", the deployed SAE has d_in="
                + replaced.dIn());
      }
      if (replacement.version() <= replaced.version()) {
        throw new DeploymentException(
            id,
            "replacement version "
                + replacement.version()
                + " is not greater than the deployed version "
                + replaced.version());
      }
      Map<HookKey, List<DeployedSae>> next = new LinkedHashMap<>();
      byHook.forEach(
          (hook, saes) ->
              next.put(
                  hook, saes.stream().map(s -> s.saeId().equals(id) ? replacement : s).toList()));
      byHook = Collections.unmodifiableMap(next);
    }
    // Only the owner's reference goes: routes taken before the swap keep the old session alive.
    replaced.session().close();
    LOG.info(
        "Swapped SAE {} v{} -> v{} on {}",
        replacement.saeId(),
        replaced.version(),
        replacement.version(),
        replacement.hook());
    return replaced;
  }

  /** Every deployed SAE, grouped by hook in deployment order. */
  public List<DeployedSae> deployed() {
    List<DeployedSae> all = new ArrayList<>();
    for (List<DeployedSae> saes : byHook.values()) {
      all.addAll(saes);
    }
    return Collections.unmodifiableList(all);
  }

  /** The hooks that have at least one SAE. */
  public Set<HookKey> hooks() {
    return Collections.unmodifiableSet(byHook.keySet());
  }

  /**
   * Closes every session; records in flight finish first (their routes hold references). Later
   * lookups fail. Idempotent.
   */
  @Override
  public void close() {
    List<DeployedSae> all;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      all = deployed();
      byHook = Map.of();
    }
    for (DeployedSae sae : all) {
      sae.session().close();
    }
    LOG.info("Closed {} SAE session(s)", all.size());
  }

  private static Map<HookKey, List<DeployedSae>> index(List<DeployedSae> saes) {
    Set<String> ids = new HashSet<>();
    Map<HookKey, List<DeployedSae>> grouped = new LinkedHashMap<>();
    for (DeployedSae sae : saes) {
      Objects.requireNonNull(sae, "sae");
      if (!ids.add(sae.saeId())) {
        throw new DeploymentException(sae.saeId(), "sae-id is deployed twice");
      }
      List<DeployedSae> sameHook = grouped.computeIfAbsent(sae.hook(), k -> new ArrayList<>());
      if (!sameHook.isEmpty() && sameHook.get(0).dIn() != sae.dIn()) {
        throw new DeploymentException(
            sae.saeId(),
            "d_in="
                + sae.dIn()
                + " differs from d_in="
                + sameHook.get(0).dIn()
                + " of SAE "
                + sameHook.get(0).saeId()
                + " on the same hook "
                + sae.hook()
                + "; one ActivationBatch has one width");
      }
      sameHook.add(sae);
    }
    Map<HookKey, List<DeployedSae>> frozen = new LinkedHashMap<>();
    grouped.forEach((hook, list) -> frozen.put(hook, List.copyOf(list)));
    return Collections.unmodifiableMap(frozen);
  }

  private static void closeAll(List<DeployedSae> saes, RuntimeException primary) {
    for (DeployedSae sae : saes) {
      try {
        sae.session().close();
      } catch (RuntimeException e) {
        primary.addSuppressed(e);
      }
    }
  }
}
