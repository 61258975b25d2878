/**
 * Hot swap: the {@link io.saestream.streams.swap.CheckpointFollower} reads the checkpoints topic
 * beside the Kafka Streams topology (not in it), reassembles and verifies each new checkpoint of a
 * deployed SAE, builds its ONNX Runtime session off the stream threads and swaps it into the {@link
 * io.saestream.streams.registry.SaeRegistry}; records in flight finish on the old session.
 */
package io.saestream.streams.swap;
