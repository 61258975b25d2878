package io.saestream.schema.checkpoint;

import io.saestream.schema.v1.SaeCheckpoint;
import io.saestream.schema.v1.SaeCheckpointChunk;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.apache.avro.specific.SpecificRecord;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reassembles checkpoints from manifest and chunk records offered in any order (Kafka gives no
 * order across partitions, and duplicates are possible), and verifies them: manifest fields,
 * signature (when a key is configured: unsigned manifests are refused), chunk count, index, length
 * and SHA-256, then the payload's size and SHA-256. Pure: no Kafka, no I/O.
 *
 * <p>Versions: per sae_id, a version is accepted only if it is greater than the <em>floor</em> —
 * the version served ({@link #markServing}) or last completed or refused here. A refusal is final
 * for its version; a publisher retries with a greater one. A manifest supersedes every incomplete
 * lower version of its SAE (their chunks are dropped), and a manifest lower than one already seen
 * is stale.
 *
 * <p>Memory is bounded by {@link AssemblerLimits}: manifests over {@code maxPayloadBytes} are
 * refused; chunk bytes over {@code maxBufferedBytes} (over all incomplete versions) refuse the
 * version they belong to; superseded and stale chunks are dropped; incomplete versions time out
 * ({@link #expireIncomplete()}).
 *
 * <p>Not thread-safe: one consumer thread offers records and calls every method.
 */
public final class CheckpointAssembler {

  private static final Logger LOG = LoggerFactory.getLogger(CheckpointAssembler.class);

  private final AssemblerLimits limits;
  private final @Nullable HmacKey key;
  private final Clock clock;
  private final Map<String, SaeState> saes = new HashMap<>();
  private long bufferedBytes;

  /**
   * Creates an assembler.
   *
   * @param limits payload size, memory and time bounds
   * @param key the shared signing key; when set, every manifest must carry a valid signature
   * @param clock measures the assembly timeout
   */
  public CheckpointAssembler(AssemblerLimits limits, @Nullable HmacKey key, Clock clock) {
    this.limits = Objects.requireNonNull(limits, "limits");
    this.key = key;
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Offers a decoded record of the checkpoints topic: an {@link SaeCheckpoint} or {@link
   * SaeCheckpointChunk}.
   */
  public AssemblyOutcome offer(SpecificRecord record) {
    if (record instanceof SaeCheckpoint manifest) {
      return offerManifest(manifest);
    }
    if (record instanceof SaeCheckpointChunk chunk) {
      return offerChunk(chunk);
    }
    throw new IllegalArgumentException(
        "record must be an SaeCheckpoint or SaeCheckpointChunk, was "
            + record.getClass().getName());
  }

  /** Offers a manifest. */
  public AssemblyOutcome offerManifest(SaeCheckpoint manifest) {
    Objects.requireNonNull(manifest, "manifest");
    String saeId = manifest.getSaeId();
    long version = manifest.getVersion();
    String problem = manifestProblem(manifest);
    if (problem != null) {
      return rejected(saeId, version, RejectionReason.MALFORMED_MANIFEST, problem);
    }
    SaeState sae = saes.computeIfAbsent(saeId, SaeState::new);
    if (version <= sae.floor) {
      return rejected(
          saeId,
          version,
          RejectionReason.STALE_VERSION,
          "version " + version + " is not greater than " + sae.floor + ", the version served");
    }
    if (version < sae.latestManifest) {
      drop(sae, version);
      return rejected(
          saeId,
          version,
          RejectionReason.STALE_VERSION,
          "manifest of version " + sae.latestManifest + " was already seen");
    }
    String signatureProblem = signatureProblem(manifest);
    if (signatureProblem != null) {
      return refuse(
          sae,
          saeId,
          version,
          manifest.getHmacSignature() == null
              ? RejectionReason.UNSIGNED
              : RejectionReason.BAD_SIGNATURE,
          signatureProblem);
    }
    if (manifest.getPayloadSize() > limits.maxPayloadBytes()) {
      return refuse(
          sae,
          saeId,
          version,
          RejectionReason.TOO_LARGE,
          "payload of "
              + manifest.getPayloadSize()
              + " bytes exceeds the limit of "
              + limits.maxPayloadBytes());
    }
    dropBelow(sae, version);
    sae.latestManifest = version;
    PendingVersion pending = sae.pending(version, clock.millis());
    pending.manifest = manifest;
    pending.manifestSeenAt = clock.millis();
    for (Map.Entry<Integer, byte[]> e : pending.chunks.entrySet()) {
      if (pending.failure != null) {
        break;
      }
      pending.failure = lengthProblem(manifest, e.getKey(), e.getValue().length);
    }
    if (pending.failure == null && pending.declaredCount != null) {
      pending.failure = countProblem(manifest, pending.declaredCount);
    }
    return settle(sae, pending);
  }

  /** Offers a chunk. */
  public AssemblyOutcome offerChunk(SaeCheckpointChunk chunk) {
    Objects.requireNonNull(chunk, "chunk");
    String saeId = chunk.getSaeId();
    long version = chunk.getVersion();
    if (CheckpointKeys.saeIdProblem(saeId) != null) {
      return new AssemblyOutcome.Ignored("chunk with an invalid sae_id '" + saeId + "'");
    }
    SaeState sae = saes.computeIfAbsent(saeId, SaeState::new);
    if (version <= sae.floor) {
      return new AssemblyOutcome.Ignored(
          "chunk of version " + version + ", not greater than " + sae.floor);
    }
    if (version < sae.latestManifest) {
      return new AssemblyOutcome.Ignored(
          "chunk of version " + version + ", superseded by version " + sae.latestManifest);
    }
    PendingVersion pending = sae.pending(version, clock.millis());
    if (pending.failure != null) {
      return new AssemblyOutcome.Pending(saeId, version);
    }
    byte[] data = bytes(chunk.getData());
    pending.failure = chunkProblem(chunk, data, pending);
    if (pending.failure == null) {
      byte[] replaced = pending.chunks.get(chunk.getIndex());
      long growth = (long) data.length - (replaced == null ? 0 : replaced.length);
      if (bufferedBytes + growth > limits.maxBufferedBytes()) {
        pending.failure =
            new Failure(
                RejectionReason.TOO_LARGE,
                "buffering chunk "
                    + chunk.getIndex()
                    + " would hold "
                    + (bufferedBytes + growth)
                    + " bytes of incomplete checkpoints, over the limit of "
                    + limits.maxBufferedBytes());
      } else {
        pending.chunks.put(chunk.getIndex(), data);
        pending.bytes += growth;
        bufferedBytes += growth;
        if (pending.declaredCount == null) {
          pending.declaredCount = chunk.getCount();
        }
      }
    }
    if (pending.failure != null) {
      release(pending);
    }
    return settle(sae, pending);
  }

  /**
   * Marks {@code version} of {@code saeId} as served: it and lower versions are stale from now on
   * and their buffered chunks are dropped.
   */
  public void markServing(String saeId, long version) {
    SaeState sae = saes.computeIfAbsent(saeId, SaeState::new);
    sae.floor = Math.max(sae.floor, version);
    Iterator<PendingVersion> it = sae.versions.headMap(sae.floor, true).values().iterator();
    while (it.hasNext()) {
      release(it.next());
      it.remove();
    }
  }

  /**
   * Refuses, as {@link RejectionReason#MISSING_CHUNK}, every version whose manifest has waited
   * longer than the assembly timeout, and drops chunks without a manifest that old. Call it when
   * the consumer has caught up with the topic: a manifest and its chunks are committed in one
   * transaction, so chunks still missing then are not coming.
   */
  public List<CheckpointRejection> expireIncomplete() {
    long now = clock.millis();
    long timeout = limits.assemblyTimeout().toMillis();
    List<CheckpointRejection> rejections = new ArrayList<>();
    for (Map.Entry<String, SaeState> entry : saes.entrySet()) {
      SaeState sae = entry.getValue();
      Iterator<PendingVersion> it = sae.versions.values().iterator();
      while (it.hasNext()) {
        PendingVersion pending = it.next();
        SaeCheckpoint manifest = pending.manifest;
        if (manifest != null && now - pending.manifestSeenAt >= timeout) {
          rejections.add(
              new CheckpointRejection(
                  entry.getKey(),
                  pending.version,
                  RejectionReason.MISSING_CHUNK,
                  "chunks "
                      + missing(pending, manifest.getChunkCount())
                      + " of "
                      + manifest.getChunkCount()
                      + " still missing "
                      + (now - pending.manifestSeenAt)
                      + " ms after the manifest"));
          sae.floor = Math.max(sae.floor, pending.version);
        } else if (manifest == null && now - pending.firstSeenAt >= timeout) {
          LOG.debug(
              "Dropping {} chunk(s) of {} v{} that have no manifest",
              pending.chunks.size(),
              entry.getKey(),
              pending.version);
        } else {
          continue;
        }
        release(pending);
        it.remove();
      }
    }
    return rejections;
  }

  /** Chunk bytes held for incomplete versions. */
  public long bufferedBytes() {
    return bufferedBytes;
  }

  /** Number of incomplete versions held, over every SAE. */
  public int pendingVersions() {
    int n = 0;
    for (SaeState sae : saes.values()) {
      n += sae.versions.size();
    }
    return n;
  }

  /** Decides a version that may have become complete or failed. */
  private AssemblyOutcome settle(SaeState sae, PendingVersion pending) {
    SaeCheckpoint manifest = pending.manifest;
    String saeId = sae.saeId;
    if (manifest == null) {
      return new AssemblyOutcome.Pending(saeId, pending.version);
    }
    Failure failure = pending.failure;
    if (failure != null) {
      return refuse(sae, saeId, pending.version, failure.reason, failure.detail);
    }
    if (pending.chunks.size() < manifest.getChunkCount()) {
      return new AssemblyOutcome.Pending(saeId, pending.version);
    }
    MessageDigest digest = Sha256.newDigest();
    List<byte[]> ordered = new ArrayList<>(manifest.getChunkCount());
    for (int i = 0; i < manifest.getChunkCount(); i++) {
      byte[] data = pending.chunks.get(i);
      if (data == null) {
        // Indices are checked against the count, so a full map holds every index.
        throw new IllegalStateException("chunk " + i + " of " + saeId + " missing from a full set");
      }
      digest.update(data);
      ordered.add(data);
    }
    String sha256 = Sha256.hex(digest);
    if (!sha256.equals(manifest.getPayloadSha256())) {
      return refuse(
          sae,
          saeId,
          pending.version,
          RejectionReason.BAD_SHA256,
          "payload SHA-256 is " + sha256 + ", the manifest says " + manifest.getPayloadSha256());
    }
    drop(sae, pending.version);
    sae.floor = Math.max(sae.floor, pending.version);
    return new AssemblyOutcome.Completed(new AssembledCheckpoint(manifest, ordered));
  }

  private AssemblyOutcome refuse(
      SaeState sae, String saeId, long version, RejectionReason reason, String detail) {
    drop(sae, version);
    sae.floor = Math.max(sae.floor, version);
    return rejected(saeId, version, reason, detail);
  }

  private static AssemblyOutcome rejected(
      String saeId, long version, RejectionReason reason, String detail) {
    return new AssemblyOutcome.Rejected(new CheckpointRejection(saeId, version, reason, detail));
  }

  private void drop(SaeState sae, long version) {
    PendingVersion removed = sae.versions.remove(version);
    if (removed != null) {
      release(removed);
    }
  }

  private void dropBelow(SaeState sae, long version) {
    Iterator<PendingVersion> it = sae.versions.headMap(version, false).values().iterator();
    while (it.hasNext()) {
      PendingVersion superseded = it.next();
      LOG.debug(
          "Version {} supersedes incomplete version {} ({} chunk(s) dropped)",
          version,
          superseded.version,
          superseded.chunks.size());
      release(superseded);
      it.remove();
    }
  }

  private void release(PendingVersion pending) {
    bufferedBytes -= pending.bytes;
    pending.bytes = 0;
    pending.chunks.clear();
  }

  private @Nullable String signatureProblem(SaeCheckpoint manifest) {
    HmacKey k = key;
    if (k == null) {
      return null;
    }
    ByteBuffer signature = manifest.getHmacSignature();
    if (signature == null) {
      return "manifest is not signed, and a signing key is configured";
    }
    boolean valid =
        k.verify(
            bytes(signature),
            manifest.getSaeId(),
            manifest.getVersion(),
            manifest.getPayloadSha256(),
            manifest.getPayloadSize());
    return valid
        ? null
        : "HMAC-SHA256 signature does not match the manifest under the configured key";
  }

  private static @Nullable Failure chunkProblem(
      SaeCheckpointChunk chunk, byte[] data, PendingVersion pending) {
    int index = chunk.getIndex();
    int count = chunk.getCount();
    if (count <= 0 || index < 0 || index >= count) {
      return new Failure(
          RejectionReason.CHUNK_MISMATCH,
          "chunk index " + index + " is outside [0, count=" + count + ")");
    }
    if (data.length > CheckpointRecords.MAX_CHUNK_BYTES) {
      return new Failure(
          RejectionReason.CHUNK_MISMATCH,
          "chunk "
              + index
              + " holds "
              + data.length
              + " bytes, over the chunk limit of "
              + CheckpointRecords.MAX_CHUNK_BYTES);
    }
    if (!Sha256.hex(data).equals(chunk.getChunkSha256())) {
      return new Failure(
          RejectionReason.BAD_CHUNK_SHA256,
          "chunk " + index + " data does not match its chunk_sha256");
    }
    Integer declared = pending.declaredCount;
    if (declared != null && declared != count) {
      return new Failure(
          RejectionReason.CHUNK_MISMATCH,
          "chunk " + index + " says count=" + count + ", an earlier chunk said " + declared);
    }
    SaeCheckpoint manifest = pending.manifest;
    if (manifest == null) {
      return null;
    }
    Failure problem = countProblem(manifest, count);
    return problem != null ? problem : lengthProblem(manifest, index, data.length);
  }

  private static @Nullable Failure countProblem(SaeCheckpoint manifest, int count) {
    if (count != manifest.getChunkCount()) {
      return new Failure(
          RejectionReason.CHUNK_MISMATCH,
          "chunks say count="
              + count
              + ", the manifest says chunk_count="
              + manifest.getChunkCount());
    }
    return null;
  }

  private static @Nullable Failure lengthProblem(SaeCheckpoint manifest, int index, int length) {
    if (index >= manifest.getChunkCount()) {
      return new Failure(
          RejectionReason.CHUNK_MISMATCH,
          "chunk index "
              + index
              + " is outside the manifest's chunk_count "
              + manifest.getChunkCount());
    }
    long offset = (long) index * manifest.getChunkSize();
    long expected = Math.min(manifest.getChunkSize(), manifest.getPayloadSize() - offset);
    if (length != expected) {
      return new Failure(
          length < expected ? RejectionReason.TRUNCATED_CHUNK : RejectionReason.CHUNK_MISMATCH,
          "chunk "
              + index
              + " holds "
              + length
              + " bytes, its place in the payload needs "
              + expected);
    }
    return null;
  }

  /** What is wrong with the manifest's own fields, or null. */
  static @Nullable String manifestProblem(SaeCheckpoint m) {
    String idProblem = CheckpointKeys.saeIdProblem(m.getSaeId());
    if (idProblem != null) {
      return idProblem;
    }
    if (m.getVersion() < 0) {
      return "version must be >= 0, was " + m.getVersion();
    }
    if (!CheckpointRelease.ARCHITECTURES.contains(m.getArchitecture())) {
      return "architecture must be one of gated, jumprelu, standard, topk, was '"
          + m.getArchitecture()
          + "'";
    }
    if (m.getDIn() <= 0) {
      return "d_in must be > 0, was " + m.getDIn();
    }
    if (m.getDSae() <= 0) {
      return "d_sae must be > 0, was " + m.getDSae();
    }
    Integer k = m.getK();
    if (k != null && (k <= 0 || k > m.getDSae())) {
      return "k must be in [1, d_sae=" + m.getDSae() + "], was " + k;
    }
    if (!CheckpointRecords.PAYLOAD_FORMAT.equals(m.getPayloadFormat())) {
      return "payload_format must be 'zip', was '" + m.getPayloadFormat() + "'";
    }
    if (!Sha256.isHex(m.getPayloadSha256())) {
      return "payload_sha256 must be 64 lowercase hex digits, was '" + m.getPayloadSha256() + "'";
    }
    if (m.getPayloadSize() <= 0) {
      return "payload_size must be > 0, was " + m.getPayloadSize();
    }
    if (m.getChunkSize() <= 0 || m.getChunkSize() > CheckpointRecords.MAX_CHUNK_BYTES) {
      return "chunk_size must be in [1, "
          + CheckpointRecords.MAX_CHUNK_BYTES
          + "], was "
          + m.getChunkSize();
    }
    long expected = (m.getPayloadSize() + m.getChunkSize() - 1) / m.getChunkSize();
    if (m.getChunkCount() != expected) {
      return "chunk_count must be ceil(payload_size / chunk_size) = "
          + expected
          + ", was "
          + m.getChunkCount();
    }
    return null;
  }

  private static String missing(PendingVersion pending, int count) {
    List<Integer> missing = new ArrayList<>();
    for (int i = 0; i < count && missing.size() < 10; i++) {
      if (!pending.chunks.containsKey(i)) {
        missing.add(i);
      }
    }
    return missing + (missing.size() == 10 ? "..." : "");
  }

  private static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer view = buffer.duplicate();
    byte[] out = new byte[view.remaining()];
    view.get(out);
    return out;
  }

  /** What is known per sae_id. */
  private static final class SaeState {
    final String saeId;
    long floor = -1;
    long latestManifest = -1;
    final TreeMap<Long, PendingVersion> versions = new TreeMap<>();

    SaeState(String saeId) {
      this.saeId = saeId;
    }

    PendingVersion pending(long version, long now) {
      return versions.computeIfAbsent(version, v -> new PendingVersion(v, now));
    }
  }

  /** An incomplete version: its manifest once seen, its chunks so far, or why it failed. */
  private static final class PendingVersion {
    final long version;
    final long firstSeenAt;
    final Map<Integer, byte[]> chunks = new HashMap<>();
    long manifestSeenAt;
    long bytes;
    @Nullable SaeCheckpoint manifest;
    @Nullable Integer declaredCount;
    @Nullable Failure failure;

    PendingVersion(long version, long firstSeenAt) {
      this.version = version;
      this.firstSeenAt = firstSeenAt;
    }
  }

  private record Failure(RejectionReason reason, String detail) {}
}
