package io.saestream.streams.registry;

/**
 * An SAE cannot be deployed: its checkpoint is missing or invalid, its config leaves the hook
 * unknown, its options do not fit it, or it conflicts with another deployment. The message starts
 * with the SAE id.
 */
public final class DeploymentException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** Creates an exception for SAE {@code saeId}. */
  public DeploymentException(String saeId, String problem) {
    super("SAE " + saeId + ": " + problem);
  }

  /** Creates an exception for SAE {@code saeId} caused by {@code cause}. */
  public DeploymentException(String saeId, String problem, Throwable cause) {
    super("SAE " + saeId + ": " + problem, cause);
  }
}
