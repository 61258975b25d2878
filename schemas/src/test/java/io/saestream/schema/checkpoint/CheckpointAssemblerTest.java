package io.saestream.schema.checkpoint;

import static io.saestream.schema.checkpoint.TestCheckpoints.KEY;
import static io.saestream.schema.checkpoint.TestCheckpoints.SAE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.saestream.schema.checkpoint.TestCheckpoints.Built;
import io.saestream.schema.v1.SaeCheckpoint;
import io.saestream.schema.v1.SaeCheckpointChunk;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.apache.avro.specific.SpecificRecord;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CheckpointAssemblerTest {

  private static final int CHUNK = 1000;
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final MutableClock clock = new MutableClock(TestCheckpoints.CREATED);

  private CheckpointAssembler assembler(@Nullable HmacKey key) {
    return new CheckpointAssembler(AssemblerLimits.of(1 << 20, TIMEOUT), key, clock);
  }

  private static Built built(long version) {
    return TestCheckpoints.build(SAE, version, TestCheckpoints.payload(4500, version), CHUNK, null);
  }

  private static AssemblyOutcome offerAll(
      CheckpointAssembler assembler, List<? extends SpecificRecord> records) {
    AssemblyOutcome last = null;
    for (SpecificRecord record : records) {
      last = assembler.offer(record);
    }
    if (last == null) {
      throw new AssertionError("no records");
    }
    return last;
  }

  private static byte[] payloadOf(AssemblyOutcome outcome) throws IOException {
    assertThat(outcome).isInstanceOf(AssemblyOutcome.Completed.class);
    try (InputStream in = ((AssemblyOutcome.Completed) outcome).checkpoint().openPayload()) {
      return in.readAllBytes();
    }
  }

  private static CheckpointRejection rejectionOf(AssemblyOutcome outcome) {
    assertThat(outcome).isInstanceOf(AssemblyOutcome.Rejected.class);
    return ((AssemblyOutcome.Rejected) outcome).rejection();
  }

  private static SaeCheckpointChunk withData(
      SaeCheckpointChunk chunk, byte[] data, boolean fixSha) {
    SaeCheckpointChunk.Builder b =
        SaeCheckpointChunk.newBuilder(chunk).setData(ByteBuffer.wrap(data));
    if (fixSha) {
      b.setChunkSha256(Sha256.hex(data));
    }
    return b.build();
  }

  @Test
  void chunksAndManifestInAnyOrderReassembleThePayload() throws IOException {
    Built v1 = built(1);
    for (long seed = 0; seed < 20; seed++) {
      List<SpecificRecord> records = new ArrayList<>(v1.chunks());
      records.add(v1.manifest());
      Collections.shuffle(records, new Random(seed));
      AssemblyOutcome outcome = offerAll(assembler(null), records);

      assertThat(payloadOf(outcome)).isEqualTo(v1.payload());
      AssembledCheckpoint checkpoint = ((AssemblyOutcome.Completed) outcome).checkpoint();
      assertThat(checkpoint.saeId()).isEqualTo(SAE);
      assertThat(checkpoint.version()).isEqualTo(1);
      assertThat(checkpoint.payloadSize()).isEqualTo(4500);
      assertThat(checkpoint.payloadSha256()).isEqualTo(Sha256.hex(v1.payload()));
    }
  }

  @Test
  void everyRecordBeforeTheLastLeavesTheVersionPending() {
    Built v1 = built(1);
    CheckpointAssembler assembler = assembler(null);

    assertThat(assembler.offer(v1.manifest())).isEqualTo(new AssemblyOutcome.Pending(SAE, 1));
    for (int i = 0; i < v1.chunks().size() - 1; i++) {
      assertThat(assembler.offer(v1.chunks().get(i)))
          .isEqualTo(new AssemblyOutcome.Pending(SAE, 1));
    }
    assertThat(assembler.bufferedBytes()).isEqualTo(4 * CHUNK);
    assertThat(assembler.offer(v1.chunks().get(4))).isInstanceOf(AssemblyOutcome.Completed.class);
    assertThat(assembler.bufferedBytes()).isZero();
    assertThat(assembler.pendingVersions()).isZero();
  }

  @Test
  void duplicateChunksAreHarmlessAndAnythingOfACompletedVersionIsStale() throws IOException {
    Built v1 = built(1);
    CheckpointAssembler assembler = assembler(null);
    List<SpecificRecord> records = new ArrayList<>(v1.chunks());
    records.addAll(v1.chunks().subList(0, 3));
    records.add(v1.manifest());

    assertThat(payloadOf(offerAll(assembler, records))).isEqualTo(v1.payload());
    assertThat(assembler.offer(v1.chunks().get(2))).isInstanceOf(AssemblyOutcome.Ignored.class);
    assertThat(rejectionOf(assembler.offer(v1.manifest())).reason())
        .isEqualTo(RejectionReason.STALE_VERSION);
    assertThat(assembler.bufferedBytes()).isZero();
  }

  @Test
  void aPayloadThatDoesNotMatchTheManifestDigestIsRejected() {
    Built v1 = built(1);
    SaeCheckpoint lying =
        SaeCheckpoint.newBuilder(v1.manifest())
            .setPayloadSha256(Sha256.hex(TestCheckpoints.payload(4500, 99)))
            .build();
    List<SpecificRecord> records = new ArrayList<>(v1.chunks());
    records.add(lying);

    CheckpointRejection rejection = rejectionOf(offerAll(assembler(null), records));

    assertThat(rejection.reason()).isEqualTo(RejectionReason.BAD_SHA256);
    assertThat(rejection.detail()).contains("payload SHA-256 is " + Sha256.hex(v1.payload()));
  }

  @Test
  void aChunkWhoseDataDoesNotMatchItsOwnDigestRejectsTheVersionBeforeOrAfterTheManifest() {
    for (boolean manifestFirst : new boolean[] {true, false}) {
      Built v1 = built(1);
      byte[] flipped = v1.chunks().get(2).getData().array().clone();
      flipped[7] ^= 1;
      List<SpecificRecord> records = new ArrayList<>(v1.chunks());
      records.set(2, withData(v1.chunks().get(2), flipped, false));
      records.add(manifestFirst ? 0 : records.size(), v1.manifest());
      CheckpointAssembler assembler = assembler(null);

      List<AssemblyOutcome> outcomes = records.stream().map(assembler::offer).toList();

      List<CheckpointRejection> rejections =
          outcomes.stream()
              .filter(AssemblyOutcome.Rejected.class::isInstance)
              .map(o -> ((AssemblyOutcome.Rejected) o).rejection())
              .toList();
      assertThat(rejections).hasSize(1);
      assertThat(rejections.get(0).reason()).isEqualTo(RejectionReason.BAD_CHUNK_SHA256);
      assertThat(rejections.get(0).detail())
          .isEqualTo("chunk 2 data does not match its chunk_sha256");
      assertThat(assembler.bufferedBytes()).isZero();
    }
  }

  @Test
  void aChunkShorterThanItsPlaceIsTruncated() {
    Built v1 = built(1);
    byte[] shorter = Arrays.copyOf(v1.chunks().get(1).getData().array(), CHUNK - 10);
    List<SpecificRecord> records = new ArrayList<>(v1.chunks());
    records.set(1, withData(v1.chunks().get(1), shorter, true));
    records.add(v1.manifest());

    CheckpointRejection rejection = rejectionOf(offerAll(assembler(null), records));

    assertThat(rejection.reason()).isEqualTo(RejectionReason.TRUNCATED_CHUNK);
    assertThat(rejection.detail())
        .isEqualTo("chunk 1 holds 990 bytes, its place in the payload needs 1000");
  }

  static Stream<Arguments> mismatchedChunks() {
    Built v1 = built(1);
    SaeCheckpointChunk last = v1.chunks().get(4);
    return Stream.of(
        arguments(
            "longer than its place",
            withData(last, TestCheckpoints.payload(501, 3), true),
            "chunk 4 holds 501 bytes, its place in the payload needs 500"),
        arguments(
            "count differs from the manifest",
            SaeCheckpointChunk.newBuilder(last).setCount(6).build(),
            "chunks say count=6, the manifest says chunk_count=5"),
        arguments(
            "index out of range",
            SaeCheckpointChunk.newBuilder(last).setIndex(5).build(),
            "chunk index 5 is outside [0, count=5)"),
        arguments(
            "over the chunk limit",
            withData(last, new byte[CheckpointRecords.MAX_CHUNK_BYTES + 1], true),
            "chunk 4 holds 524289 bytes, over the chunk limit of 524288"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("mismatchedChunks")
  void aChunkThatDisagreesWithItsManifestIsAMismatch(
      String name, SaeCheckpointChunk bad, String detail) {
    CheckpointAssembler assembler = assembler(null);
    assertThat(assembler.offer(built(1).manifest())).isInstanceOf(AssemblyOutcome.Pending.class);

    CheckpointRejection rejection = rejectionOf(assembler.offer(bad));

    assertThat(rejection.reason()).isEqualTo(RejectionReason.CHUNK_MISMATCH);
    assertThat(rejection.detail()).isEqualTo(detail);
  }

  @Test
  void chunksDisagreeingAmongThemselvesOnTheCountAreAMismatch() {
    Built v1 = built(1);
    CheckpointAssembler assembler = assembler(null);
    assembler.offer(v1.chunks().get(0));
    assembler.offer(SaeCheckpointChunk.newBuilder(v1.chunks().get(1)).setCount(7).build());

    CheckpointRejection rejection = rejectionOf(assembler.offer(v1.manifest()));

    assertThat(rejection.reason()).isEqualTo(RejectionReason.CHUNK_MISMATCH);
    assertThat(rejection.detail()).isEqualTo("chunk 1 says count=7, an earlier chunk said 5");
  }

  @Test
  void aVersionStillMissingChunksAfterTheTimeoutIsRejectedOnlyThen() {
    Built v1 = built(1);
    CheckpointAssembler assembler = assembler(null);
    List<SpecificRecord> records = new ArrayList<>(v1.chunks());
    records.remove(3);
    records.add(v1.manifest());
    assertThat(offerAll(assembler, records)).isEqualTo(new AssemblyOutcome.Pending(SAE, 1));

    clock.advance(TIMEOUT.minusMillis(1));
    assertThat(assembler.expireIncomplete()).isEmpty();
    clock.advance(Duration.ofMillis(1));
    List<CheckpointRejection> rejections = assembler.expireIncomplete();

    assertThat(rejections).hasSize(1);
    assertThat(rejections.get(0).reason()).isEqualTo(RejectionReason.MISSING_CHUNK);
    assertThat(rejections.get(0).detail()).startsWith("chunks [3] of 5 still missing 30000 ms");
    assertThat(assembler.bufferedBytes()).isZero();
    assertThat(assembler.pendingVersions()).isZero();
    assertThat(assembler.offer(v1.chunks().get(3))).isInstanceOf(AssemblyOutcome.Ignored.class);
  }

  @Test
  void chunksWithoutAManifestAreDroppedAfterTheTimeoutWithoutAVerdict() {
    Built v1 = built(1);
    CheckpointAssembler assembler = assembler(null);
    offerAll(assembler, v1.chunks());
    assertThat(assembler.bufferedBytes()).isEqualTo(4500);

    clock.advance(TIMEOUT);

    assertThat(assembler.expireIncomplete()).isEmpty();
    assertThat(assembler.bufferedBytes()).isZero();
    assertThat(assembler.pendingVersions()).isZero();
  }

  @Test
  void withAKeyAnUnsignedManifestIsRejected() {
    CheckpointRejection rejection = assemblerRejects(KEY, built(1));

    assertThat(rejection.reason()).isEqualTo(RejectionReason.UNSIGNED);
    assertThat(rejection.detail())
        .isEqualTo("manifest is not signed, and a signing key is configured");
  }

  private CheckpointRejection assemblerRejects(HmacKey key, Built checkpoint) {
    CheckpointAssembler assembler = assembler(key);
    List<SpecificRecord> records = new ArrayList<>(checkpoint.chunks());
    records.add(checkpoint.manifest());
    CheckpointRejection rejection = rejectionOf(offerAll(assembler, records));
    assertThat(assembler.bufferedBytes()).isZero();
    return rejection;
  }

  @Test
  void withAKeyASignatureUnderAnotherKeyIsRejected() {
    byte[] payload = TestCheckpoints.payload(4500, 1);
    Built forged =
        TestCheckpoints.build(
            SAE, 1, payload, CHUNK, HmacKey.fromText("another-key-another-key-another-key"));

    assertThat(assemblerRejects(KEY, forged).reason()).isEqualTo(RejectionReason.BAD_SIGNATURE);
  }

  @Test
  void aSignedManifestReplayedAsANewerVersionFailsTheSignature() {
    byte[] payload = TestCheckpoints.payload(4500, 1);
    Built signed = TestCheckpoints.build(SAE, 1, payload, CHUNK, KEY);
    Built replayed =
        new Built(
            SaeCheckpoint.newBuilder(signed.manifest()).setVersion(9).build(),
            CheckpointRecords.split(SAE, 9, payload, CHUNK),
            payload);

    assertThat(assemblerRejects(KEY, replayed).reason()).isEqualTo(RejectionReason.BAD_SIGNATURE);
  }

  @Test
  void withAKeyAValidSignatureIsAcceptedAndWithoutOneSignaturesAreNotRequired() throws IOException {
    byte[] payload = TestCheckpoints.payload(4500, 1);
    Built signed = TestCheckpoints.build(SAE, 1, payload, CHUNK, KEY);
    List<SpecificRecord> records = new ArrayList<>(signed.chunks());
    records.add(signed.manifest());

    assertThat(payloadOf(offerAll(assembler(KEY), records))).isEqualTo(payload);
    assertThat(payloadOf(offerAll(assembler(null), records))).isEqualTo(payload);
  }

  @Test
  void versionsNotAboveTheServedOneAreStale() {
    CheckpointAssembler assembler = assembler(null);
    assembler.markServing(SAE, 3);
    Built v3 = built(3);

    assertThat(assembler.offer(v3.chunks().get(0))).isInstanceOf(AssemblyOutcome.Ignored.class);
    CheckpointRejection rejection = rejectionOf(assembler.offer(v3.manifest()));

    assertThat(rejection.reason()).isEqualTo(RejectionReason.STALE_VERSION);
    assertThat(rejection.detail()).isEqualTo("version 3 is not greater than 3, the version served");
    assertThat(assembler.bufferedBytes()).isZero();
  }

  @Test
  void markServingDropsWhatIsBufferedForThatVersionAndBelow() {
    CheckpointAssembler assembler = assembler(null);
    offerAll(assembler, built(2).chunks());
    offerAll(assembler, built(3).chunks());
    assertThat(assembler.pendingVersions()).isEqualTo(2);

    assembler.markServing(SAE, 2);

    assertThat(assembler.pendingVersions()).isEqualTo(1);
    assertThat(assembler.bufferedBytes()).isEqualTo(4500);
  }

  @Test
  void aNewerManifestSupersedesIncompleteOlderVersions() throws IOException {
    CheckpointAssembler assembler = assembler(null);
    Built v1 = built(1);
    Built v2 = built(2);
    offerAll(assembler, v1.chunks().subList(0, 3));
    assembler.offer(v1.manifest());
    assertThat(assembler.bufferedBytes()).isEqualTo(3 * CHUNK);

    offerAll(assembler, v2.chunks());
    assertThat(assembler.offer(v2.manifest())).isInstanceOf(AssemblyOutcome.Completed.class);

    assertThat(assembler.bufferedBytes()).isZero();
    assertThat(assembler.pendingVersions()).isZero();
    assertThat(assembler.offer(v1.chunks().get(3))).isInstanceOf(AssemblyOutcome.Ignored.class);
    assertThat(rejectionOf(assembler.offer(v1.manifest())).reason())
        .isEqualTo(RejectionReason.STALE_VERSION);
  }

  @Test
  void aManifestOlderThanOneAlreadySeenIsStale() {
    CheckpointAssembler assembler = assembler(null);
    assembler.offer(built(5).manifest());

    CheckpointRejection rejection = rejectionOf(assembler.offer(built(4).manifest()));

    assertThat(rejection.reason()).isEqualTo(RejectionReason.STALE_VERSION);
    assertThat(rejection.detail()).isEqualTo("manifest of version 5 was already seen");
  }

  @Test
  void aRejectedVersionIsFinalAndItsLateChunksAreIgnored() {
    CheckpointAssembler assembler = assembler(KEY);
    Built v1 = built(1);
    assembler.offer(v1.chunks().get(0));
    assertThat(rejectionOf(assembler.offer(v1.manifest())).reason())
        .isEqualTo(RejectionReason.UNSIGNED);

    assertThat(assembler.offer(v1.chunks().get(1))).isInstanceOf(AssemblyOutcome.Ignored.class);
    assertThat(assembler.bufferedBytes()).isZero();
  }

  static Stream<Arguments> malformedManifests() {
    SaeCheckpoint good = built(1).manifest();
    return Stream.of(
        malformed("sae_id with a slash", b -> b.setSaeId("a/b"), "sae_id must not contain '/'"),
        malformed("negative version", b -> b.setVersion(-1), "version must be >= 0, was -1"),
        malformed(
            "unknown architecture",
            b -> b.setArchitecture("batchtopk"),
            "architecture must be one of"),
        malformed("zero d_in", b -> b.setDIn(0), "d_in must be > 0, was 0"),
        malformed("zero d_sae", b -> b.setDSae(0), "d_sae must be > 0, was 0"),
        malformed("k above d_sae", b -> b.setK(17), "k must be in [1, d_sae=16], was 17"),
        malformed(
            "tar payload",
            b -> b.setPayloadFormat("tar"),
            "payload_format must be 'zip', was 'tar'"),
        malformed(
            "upper-case digest",
            b -> b.setPayloadSha256(good.getPayloadSha256().toUpperCase(Locale.ROOT)),
            "payload_sha256 must be 64 lowercase hex digits"),
        malformed("empty payload", b -> b.setPayloadSize(0), "payload_size must be > 0, was 0"),
        malformed(
            "chunks over 512 KiB",
            b -> b.setChunkSize(524289),
            "chunk_size must be in [1, 524288], was 524289"),
        malformed(
            "inconsistent chunk count",
            b -> b.setChunkCount(4),
            "chunk_count must be ceil(payload_size / chunk_size) = 5, was 4"));
  }

  private static Arguments malformed(
      String name, UnaryOperator<SaeCheckpoint.Builder> corrupt, String detail) {
    return arguments(name, corrupt, detail);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedManifests")
  void malformedManifestsAreRejected(
      String name, UnaryOperator<SaeCheckpoint.Builder> corrupt, String detail) {
    SaeCheckpoint bad = corrupt.apply(SaeCheckpoint.newBuilder(built(1).manifest())).build();

    CheckpointRejection rejection = rejectionOf(assembler(null).offer(bad));

    assertThat(rejection.reason()).isEqualTo(RejectionReason.MALFORMED_MANIFEST);
    assertThat(rejection.detail()).startsWith(detail);
  }

  @Test
  void aManifestOverThePayloadLimitIsRejectedAtOnce() {
    CheckpointAssembler assembler =
        new CheckpointAssembler(new AssemblerLimits(4000, 8000, TIMEOUT), null, clock);
    Built v1 = built(1);
    offerAll(assembler, v1.chunks().subList(0, 2));

    CheckpointRejection rejection = rejectionOf(assembler.offer(v1.manifest()));

    assertThat(rejection.reason()).isEqualTo(RejectionReason.TOO_LARGE);
    assertThat(rejection.detail()).isEqualTo("payload of 4500 bytes exceeds the limit of 4000");
    assertThat(assembler.bufferedBytes()).isZero();
  }

  @Test
  void bufferedChunksNeverExceedTheMemoryBound() {
    long cap = 10_000;
    CheckpointAssembler assembler =
        new CheckpointAssembler(new AssemblerLimits(5000, cap, TIMEOUT), null, clock);
    // Chunks of ever newer versions whose manifests never come, as a flood would look.
    for (long version = 1; version <= 5; version++) {
      for (SaeCheckpointChunk chunk : built(version).chunks()) {
        // Without a manifest there is no verdict yet, even for a version already over the bound.
        assertThat(assembler.offer(chunk)).isInstanceOf(AssemblyOutcome.Pending.class);
        assertThat(assembler.bufferedBytes()).isLessThanOrEqualTo(cap);
      }
    }
    assertThat(assembler.bufferedBytes()).isEqualTo(9000);

    CheckpointRejection rejection = rejectionOf(assembler.offer(built(3).manifest()));
    assertThat(rejection.reason()).isEqualTo(RejectionReason.TOO_LARGE);
    assertThat(rejection.detail()).contains("over the limit of 10000");
  }
}
