package io.saestream.trainer.publish;

import io.saestream.schema.checkpoint.CheckpointRelease;
import io.saestream.schema.checkpoint.PublishedCheckpoint;

/**
 * Where released checkpoints go: {@link io.saestream.schema.checkpoint.CheckpointPublisher}'s
 * {@code publish} in production, a list in tests.
 */
@FunctionalInterface
public interface CheckpointSink {

  /** Publishes {@code release} and returns once it is durable. */
  PublishedCheckpoint publish(CheckpointRelease release);
}
