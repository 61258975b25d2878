package io.saestream.trainer.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.saestream.schema.v1.SaeCheckpoint;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Map;

/**
 * What a checkpoints topic held when a test read it: the manifests in offset order and the chunk
 * payloads by version and index. Owned by the test that read it, which treats it as read-only.
 *
 * @param manifests every manifest, in offset order
 * @param chunks every chunk's bytes, keyed by {@link #chunkKey}
 */
record CheckpointTopicContents(List<SaeCheckpoint> manifests, Map<String, byte[]> chunks) {

  CheckpointTopicContents {
    manifests = List.copyOf(manifests);
    chunks = Map.copyOf(chunks);
  }

  /** The key of chunk {@code index} of {@code version}. */
  static String chunkKey(long version, int index) {
    return version + "/" + index;
  }

  /** The payload {@code manifest} describes, its chunks concatenated; every chunk must be there. */
  byte[] payload(SaeCheckpoint manifest) {
    ByteArrayOutputStream payload = new ByteArrayOutputStream();
    for (int i = 0; i < manifest.getChunkCount(); i++) {
      byte[] chunk = chunks.get(chunkKey(manifest.getVersion(), i));
      assertThat(chunk).as("chunk %d of v%d", i, manifest.getVersion()).isNotNull();
      payload.writeBytes(chunk);
    }
    return payload.toByteArray();
  }
}
