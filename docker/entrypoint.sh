#!/bin/sh
# Entry point of the sae-stream images: `docker run IMAGE <subcommand> [options]`.
#
# WAIT_FOR_FILES (space-separated paths, optional): wait until each exists before starting, at most
# WAIT_TIMEOUT_SECONDS (default 1800). The compose stack uses it to start the streams app once the
# trainer has written the first SAE version it serves to their shared volume.
# JAVA_OPTS: JVM options (heap, GC, -Djava.io.tmpdir).
#
# The JVM replaces this shell (exec), so `docker stop`'s SIGTERM reaches its shutdown hooks and the
# app closes cleanly (streams: Kafka Streams close; trainer: final publication and commit).
set -eu

timeout="${WAIT_TIMEOUT_SECONDS:-1800}"
deadline=$(( $(date +%s) + timeout ))
for file in ${WAIT_FOR_FILES:-}; do
  announced=0
  until [ -e "$file" ]; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "sae-stream: $file did not appear within ${timeout}s; giving up" >&2
      exit 1
    fi
    if [ "$announced" -eq 0 ]; then
      echo "sae-stream: waiting for $file" >&2
      announced=1
    fi
    sleep 2
  done
done

# shellcheck disable=SC2086 # JAVA_OPTS holds several options on purpose
exec java ${JAVA_OPTS:-} -Dorg.apache.avro.SERIALIZABLE_PACKAGES=io.saestream \
  -jar /opt/sae-stream/sae-stream.jar "$@"
