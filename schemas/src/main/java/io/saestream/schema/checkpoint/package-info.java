/**
 * SAE checkpoints on Kafka: publishing a checkpoint as one manifest and its chunks in one
 * transaction ({@link io.saestream.schema.checkpoint.CheckpointPublisher}), reassembling and
 * verifying them on the consumer side ({@link io.saestream.schema.checkpoint.CheckpointAssembler},
 * pure, no Kafka) and the payload archive ({@link
 * io.saestream.schema.checkpoint.CheckpointArchive}: a zip of {@code cfg.json} and {@code
 * sae_weights.safetensors}).
 *
 * <h2>Topic layout ({@value io.saestream.schema.checkpoint.CheckpointKeys#DEFAULT_TOPIC})</h2>
 *
 * <p>A compacted topic carrying two record types, so each type has its own registry subject
 * (Confluent's TopicRecordNameStrategy): {@code <topic>-io.saestream.schema.v1.SaeCheckpoint} and
 * {@code <topic>-io.saestream.schema.v1.SaeCheckpointChunk}. One subject per type keeps each
 * subject's BACKWARD compatibility meaningful; a single {@code <topic>-value} subject would refuse
 * the second type.
 *
 * <p>Keys ({@link io.saestream.schema.checkpoint.CheckpointKeys}), designed for compaction:
 *
 * <ul>
 *   <li>manifest: {@code <sae_id>} — compaction keeps the latest manifest of each SAE;
 *   <li>chunk: {@code <sae_id>/<version>/<index>} — unique per chunk; a sae_id never contains
 *       {@code '/'}, so no chunk key equals a manifest key.
 * </ul>
 *
 * <p>One publication is one Kafka transaction, all on the partition the manifest key hashes to
 * (Kafka's default partitioner, murmur2): the chunks, then the manifest, then tombstones for every
 * chunk key of the version it supersedes. A read-committed consumer therefore sees all of a version
 * or none of it, normally chunks first; once compaction has run, only the latest version's chunks
 * and manifest remain, so a consumer that reads from the beginning learns the latest version. A
 * rejected latest version is not rolled back on the topic: its predecessor's chunks are gone, and a
 * consumer restarting falls back to what it deploys from configuration.
 */
package io.saestream.schema.checkpoint;
