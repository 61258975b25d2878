package io.saestream.schema.checkpoint;

import java.util.Objects;

/** What offering one record to a {@link CheckpointAssembler} led to. */
public sealed interface AssemblyOutcome
    permits AssemblyOutcome.Pending,
        AssemblyOutcome.Completed,
        AssemblyOutcome.Rejected,
        AssemblyOutcome.Ignored {

  /** The record was kept; its version is not complete yet. */
  record Pending(String saeId, long version) implements AssemblyOutcome {

    /** Validates the id. */
    public Pending {
      Objects.requireNonNull(saeId, "saeId");
    }
  }

  /** The record completed its version, which passed every check. */
  record Completed(AssembledCheckpoint checkpoint) implements AssemblyOutcome {

    /** Validates the checkpoint. */
    public Completed {
      Objects.requireNonNull(checkpoint, "checkpoint");
    }
  }

  /** The record's version was refused; its buffered data is gone. */
  record Rejected(CheckpointRejection rejection) implements AssemblyOutcome {

    /** Validates the rejection. */
    public Rejected {
      Objects.requireNonNull(rejection, "rejection");
    }
  }

  /**
   * The record was dropped without a verdict: a chunk of a version already served, assembled,
   * refused or superseded (normal while compaction has not yet removed it).
   */
  record Ignored(String why) implements AssemblyOutcome {

    /** Validates the reason. */
    public Ignored {
      Objects.requireNonNull(why, "why");
    }
  }
}
