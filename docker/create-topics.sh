#!/bin/bash
# Creates the topics sae-stream reads and writes; the apps never create them (a typo in a topic
# name then fails loudly instead of creating a new topic). Idempotent: existing topics are kept.
# Run by the compose service `topics` in the apache/kafka image.
#
#   BOOTSTRAP_SERVERS   broker to talk to                       (default kafka:19092)
#   PARTITIONS          partitions of the data topics: the most (default 6)
#                       streams instances/threads that share the work
#   REPLICATION_FACTOR  1 for this single-broker stack          (default 1)
set -euo pipefail

bootstrap="${BOOTSTRAP_SERVERS:-kafka:19092}"
partitions="${PARTITIONS:-6}"
replication="${REPLICATION_FACTOR:-1}"

# create NAME PARTITIONS [CONFIG=VALUE ...]
create() {
  local name="$1" count="$2"
  shift 2
  local configs=()
  for config in "$@"; do
    configs+=(--config "$config")
  done
  /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$bootstrap" --create --if-not-exists \
    --topic "$name" --partitions "$count" --replication-factor "$replication" "${configs[@]}"
}

# ActivationBatch in (up to 8 MiB records: 256 tokens x d_in 4096 in F32 is 4 MiB).
create sae.activations.v1 "$partitions" max.message.bytes=8388608
# FeatureBatch and ReconstructionStats out, keyed like the input. A FeatureBatch is ~7 bytes per
# firing (n_tokens x k): up to 8 MiB covers 1024 tokens x k 1024 (the app may send 16 MiB).
create sae.features.v1 "$partitions" max.message.bytes=8388608
create sae.reconstruction.v1 "$partitions"
# Dead letters keep the original record, so they are as large as the input.
create sae.dlq.v1 1 max.message.bytes=8388608
# FeatureAlert out; rules in (compacted: key = rule id, tombstone deletes).
create sae.alerts.v1 1
create sae.rules.v1 1 cleanup.policy=compact
# Checkpoints: compacted, chunks of at most 512 KiB (CheckpointTopic.CONFIGS).
create sae.checkpoints.v1 1 cleanup.policy=compact max.message.bytes=1048576

/opt/kafka/bin/kafka-topics.sh --bootstrap-server "$bootstrap" --list
