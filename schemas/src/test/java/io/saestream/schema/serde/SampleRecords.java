package io.saestream.schema.serde;

import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.AlertSeverity;
import io.saestream.schema.v1.Dtype;
import io.saestream.schema.v1.FeatureAlert;
import io.saestream.schema.v1.FeatureBatch;
import io.saestream.schema.v1.ReconstructionStats;
import io.saestream.schema.v1.SaeCheckpoint;
import io.saestream.schema.v1.SaeCheckpointChunk;
import io.saestream.schema.v1.TokenContext;
import io.saestream.schema.v1.TrainingMetrics;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** One fully populated record of every wire type, with awkward values (NaN, extremes, unicode). */
final class SampleRecords {

  static final Instant PRODUCED_AT = Instant.ofEpochMilli(1_767_225_600_123L);

  private SampleRecords() {}

  static ActivationBatch activationBatch() {
    int nTokens = 2;
    int dIn = 3;
    ByteBuffer data = ByteBuffer.allocate(nTokens * dIn * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : new float[] {1.5f, -2.25f, Float.MIN_VALUE, Float.MAX_VALUE, 0f, -0f}) {
      data.putFloat(v);
    }
    data.flip();
    return ActivationBatch.newBuilder()
        .setModelId("gpt2-small")
        .setHookName("blocks.8.hook_resid_pre")
        .setSequenceId("seq-42")
        .setStartPosition(17)
        .setNTokens(nTokens)
        .setDIn(dIn)
        .setDtype(Dtype.F32)
        .setData(data)
        .setTokenIds(List.of(464, 2068))
        .setTokens(List.of(" The", " café ☕"))
        .setProducedAt(PRODUCED_AT)
        .setAttributes(Map.of("tenant", "acme", "deployment", "eu-west-1"))
        .build();
  }

  static FeatureBatch featureBatch() {
    return FeatureBatch.newBuilder()
        .setModelId("gpt2-small")
        .setHookName("blocks.8.hook_resid_pre")
        .setSequenceId("seq-42")
        .setStartPosition(17)
        .setNTokens(2)
        .setSaeId("gpt2-small-res-jb-8")
        .setSaeVersion(Long.MAX_VALUE)
        .setDSae(24576)
        .setRowOffsets(List.of(0, 2, 3))
        .setLatentIndices(List.of(7, 24575, 0))
        .setLatentValues(List.of(0.5f, 12.75f, Float.MIN_NORMAL))
        .setSourceTopic("sae.activations.v1")
        .setSourcePartition(3)
        .setSourceOffset(1L << 40)
        .setProducedAt(PRODUCED_AT)
        .build();
  }

  static ReconstructionStats reconstructionStats() {
    return ReconstructionStats.newBuilder()
        .setModelId("gpt2-small")
        .setHookName("blocks.8.hook_resid_pre")
        .setSequenceId("seq-42")
        .setStartPosition(17)
        .setNTokens(2)
        .setSaeId("gpt2-small-res-jb-8")
        .setSaeVersion(3L)
        .setSse(List.of(0.25f, 1.0f))
        .setRelativeError(List.of(0.01f, Float.NaN))
        .setCosine(List.of(0.99f, -1.0f))
        .setL0(List.of(32, 0))
        .setFvu(0.125)
        .setMeanL0(16.0)
        .setProducedAt(PRODUCED_AT)
        .build();
  }

  static FeatureAlert featureAlert() {
    return FeatureAlert.newBuilder()
        .setAlertId("rule-7/seq-42/18")
        .setRuleId("rule-7")
        .setSeverity(AlertSeverity.CRITICAL)
        .setSaeId("gpt2-small-res-jb-8")
        .setSaeVersion(3L)
        .setModelId("gpt2-small")
        .setHookName("blocks.8.hook_resid_pre")
        .setLatentIndex(24575)
        .setSequenceIds(List.of("seq-42", "seq-43"))
        .setWindowStart(PRODUCED_AT.minusSeconds(60))
        .setWindowEnd(PRODUCED_AT)
        .setObservedValue(12.75)
        .setThreshold(10.0)
        .setTokenContext(
            TokenContext.newBuilder()
                .setSequenceId("seq-42")
                .setPosition(18)
                .setTokens(List.of(" The", " café ☕", "!"))
                .setFocusIndex(1)
                .build())
        .setCreatedAt(PRODUCED_AT.plusMillis(5))
        .build();
  }

  static SaeCheckpoint saeCheckpoint() {
    return SaeCheckpoint.newBuilder()
        .setSaeId("gpt2-small-res-jb-8")
        .setVersion(4L)
        .setArchitecture("topk")
        .setDIn(768)
        .setDSae(24576)
        .setK(32)
        .setCfgJson("{\"architecture\":\"topk\",\"d_in\":768,\"d_sae\":24576,\"k\":32}")
        .setPayloadFormat("zip")
        .setPayloadSha256("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        .setPayloadSize(3L * 524_288L + 17L)
        .setChunkCount(4)
        .setChunkSize(524_288)
        .setMetrics(
            TrainingMetrics.newBuilder()
                .setStep(1000L)
                .setTokensSeen(4_096_000L)
                .setFvu(0.08)
                .setL0(32.0)
                .setDeadFraction(0.001)
                .build())
        .setHmacSignature(ByteBuffer.wrap(new byte[] {1, 2, 3, (byte) 0xff}))
        .setCreatedAt(PRODUCED_AT)
        .build();
  }

  static SaeCheckpointChunk saeCheckpointChunk() {
    return SaeCheckpointChunk.newBuilder()
        .setSaeId("gpt2-small-res-jb-8")
        .setVersion(4L)
        .setIndex(3)
        .setCount(4)
        .setData(ByteBuffer.wrap(new byte[] {(byte) 0x50, (byte) 0x4b, 3, 4, 0, (byte) 0x80}))
        .setChunkSha256("0f".repeat(32))
        .build();
  }
}
