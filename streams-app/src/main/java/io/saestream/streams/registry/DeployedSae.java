package io.saestream.streams.registry;

import io.saestream.streams.inference.SaeSession;
import java.util.Objects;

/**
 * One SAE being served. Immutable; the session is owned by the {@link SaeRegistry}, not by this
 * record.
 *
 * @param saeId the id written into outputs
 * @param version the version written into outputs ({@code sae_version})
 * @param hook the (model, hook) whose activations it reads
 * @param dIn input width
 * @param dSae number of latents
 * @param architecture the sae-lens architecture name of the served (inference) form
 * @param session the ONNX Runtime session running its analyze graph
 */
public record DeployedSae(
    String saeId,
    long version,
    HookKey hook,
    int dIn,
    int dSae,
    String architecture,
    SaeSession session) {

  /** Validates the fields and that the session agrees with d_in. */
  public DeployedSae {
    Objects.requireNonNull(saeId, "saeId");
    Objects.requireNonNull(hook, "hook");
    Objects.requireNonNull(architecture, "architecture");
    Objects.requireNonNull(session, "session");
    if (version < 0) {
      throw new IllegalArgumentException("version must be >= 0, was " + version);
    }
    if (dIn <= 0) {
      throw new IllegalArgumentException("d_in must be > 0, was " + dIn);
    }
    if (dSae <= 0) {
      throw new IllegalArgumentException("d_sae must be > 0, was " + dSae);
    }
    if (session.dIn() != dIn) {
      throw new IllegalArgumentException(
          "SAE " + saeId + ": session takes d_in=" + session.dIn() + ", config says " + dIn);
    }
  }

  /** K, the number of latents reported per token. */
  public int slots() {
    return session.slots();
  }
}
