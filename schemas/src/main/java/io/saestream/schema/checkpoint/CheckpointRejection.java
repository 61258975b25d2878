package io.saestream.schema.checkpoint;

import java.util.Objects;

/**
 * A checkpoint version refused by the {@link CheckpointAssembler}.
 *
 * @param saeId the SAE named by the record (possibly invalid when the reason is malformed input)
 * @param version the version named by the record
 * @param reason the cause, for metrics
 * @param detail what exactly is wrong, for the log
 */
public record CheckpointRejection(
    String saeId, long version, RejectionReason reason, String detail) {

  /** Validates the fields. */
  public CheckpointRejection {
    Objects.requireNonNull(saeId, "saeId");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(detail, "detail");
  }

  @Override
  public String toString() {
    return "checkpoint "
        + saeId
        + " v"
        + version
        + " rejected ("
        + reason.tagValue()
        + "): "
        + detail;
  }
}
