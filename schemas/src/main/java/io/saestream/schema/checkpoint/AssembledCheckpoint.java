package io.saestream.schema.checkpoint;

import io.saestream.schema.v1.SaeCheckpoint;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Objects;

/**
 * A checkpoint whose payload was reassembled and verified (size, chunk and payload SHA-256, and
 * signature when a key is configured) by a {@link CheckpointAssembler}. Holds the payload as its
 * chunks, so no single array limits its size. Immutable; the chunk arrays are never exposed.
 */
public final class AssembledCheckpoint {

  private final SaeCheckpoint manifest;
  private final List<byte[]> chunks;

  AssembledCheckpoint(SaeCheckpoint manifest, List<byte[]> chunks) {
    this.manifest = Objects.requireNonNull(manifest, "manifest");
    this.chunks = List.copyOf(chunks);
  }

  /** The SAE. */
  public String saeId() {
    return manifest.getSaeId();
  }

  /** The version. */
  public long version() {
    return manifest.getVersion();
  }

  /** The manifest (a copy: Avro records are mutable). */
  public SaeCheckpoint manifest() {
    return SaeCheckpoint.newBuilder(manifest).build();
  }

  /** The payload size in bytes. */
  public long payloadSize() {
    return manifest.getPayloadSize();
  }

  /** The payload's SHA-256, lowercase hex. */
  public String payloadSha256() {
    return manifest.getPayloadSha256();
  }

  /** A new stream over the payload (a zip archive, see {@link CheckpointArchive}). */
  public InputStream openPayload() {
    Enumeration<InputStream> streams =
        Collections.enumeration(
            chunks.stream().map(c -> (InputStream) new ByteArrayInputStream(c)).toList());
    return new SequenceInputStream(streams);
  }

  @Override
  public String toString() {
    return "AssembledCheckpoint["
        + saeId()
        + " v"
        + version()
        + ", "
        + payloadSize()
        + " bytes in "
        + chunks.size()
        + " chunk(s)]";
  }
}
