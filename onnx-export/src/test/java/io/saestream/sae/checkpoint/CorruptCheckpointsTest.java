package io.saestream.sae.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every defect {@link CorruptCheckpoints} makes is refused, naming the file and the problem. */
class CorruptCheckpointsTest {

  private static CheckpointException refusal(Path dir, String fileName) {
    Throwable t =
        org.assertj.core.api.Assertions.catchThrowable(() -> SaeCheckpoint.open(dir).close());
    assertThat(t).isInstanceOf(CheckpointException.class);
    CheckpointException e = (CheckpointException) t;
    assertThat(e.file()).isEqualTo(dir.resolve(fileName));
    assertThat(e.getMessage()).startsWith(dir.resolve(fileName) + ": ").endsWith(e.problem());
    return e;
  }

  private static CheckpointException weights(Path dir) {
    return refusal(dir, SaeCheckpoint.WEIGHTS_FILE);
  }

  private static CheckpointException cfg(Path dir) {
    return refusal(dir, SaeCheckpoint.CONFIG_FILE);
  }

  @Test
  void truncatedWeightsFile(@TempDir Path tmp) {
    assertThat(weights(CorruptCheckpoints.truncatedWeights(tmp)).problem())
        .contains("extend past the end of the data section")
        .contains("truncated file");
  }

  @Test
  void weightsFileShorterThanTheLengthPrefix(@TempDir Path tmp) {
    assertThat(weights(CorruptCheckpoints.weightsShorterThanPrefix(tmp)).problem())
        .contains("file is 5 bytes, too short for the 8-byte header length prefix: truncated");
  }

  @Test
  void headerLengthBeyondTheFile(@TempDir Path tmp) {
    assertThat(weights(CorruptCheckpoints.headerLengthBeyondFile(tmp)).problem())
        .contains("runs past the end of the file");
  }

  @Test
  void headerThatIsNotJson(@TempDir Path tmp) {
    assertThat(weights(CorruptCheckpoints.headerNotJson(tmp)).problem())
        .contains("header is not valid JSON");
  }

  @Test
  void overlappingOffsets(@TempDir Path tmp) {
    assertThat(weights(CorruptCheckpoints.overlappingOffsets(tmp)).problem())
        .isEqualTo("tensors 'W_enc' [0, 128] and 'W_dec' [64, 192] overlap");
  }

  @Test
  void outOfRangeOffsets(@TempDir Path tmp) {
    assertThat(weights(CorruptCheckpoints.outOfRangeOffsets(tmp)).problem())
        .startsWith(
            "tensor 'b_enc' data_offsets [272, 304] extend past the end of the data section (296"
                + " bytes)");
  }

  @Test
  void gapBetweenTensors(@TempDir Path tmp) {
    assertThat(weights(CorruptCheckpoints.gapBetweenTensors(tmp)).problem())
        .startsWith("bytes [128, 144) of the data section belong to no tensor");
  }

  @Test
  void unsupportedDtype(@TempDir Path tmp) {
    assertThat(weights(CorruptCheckpoints.unsupportedDtype(tmp)).problem())
        .isEqualTo("tensor 'b_dec' has unsupported dtype I32 (supported: F64, F32, F16, BF16)");
  }

  @Test
  void shapeDisagreeingWithCfgJson(@TempDir Path tmp) {
    assertThat(weights(CorruptCheckpoints.shapeDisagreesWithConfig(tmp)).problem())
        .isEqualTo("tensor 'W_enc' has shape [4, 6] but cfg.json (d_in=4, d_sae=8) implies [4, 8]");
  }

  @Test
  void missingTensor(@TempDir Path tmp) {
    assertThat(weights(CorruptCheckpoints.missingTensor(tmp)).problem())
        .startsWith("missing tensor 'threshold' required by architecture jumprelu")
        .contains("present: [W_dec, W_enc, b_dec, b_enc]");
  }

  @Test
  void nanWeight(@TempDir Path tmp) {
    assertThat(weights(CorruptCheckpoints.nanWeight(tmp)).problem())
        .startsWith("tensor 'W_enc' holds NaN at flat index 13 (element [1, 5])");
  }

  @Test
  void infWeight(@TempDir Path tmp) {
    assertThat(weights(CorruptCheckpoints.infWeight(tmp)).problem())
        .startsWith("tensor 'W_dec' holds Infinity at flat index 6 (element [1, 2])");
  }

  @Test
  void unknownArchitecture(@TempDir Path tmp) {
    assertThat(cfg(CorruptCheckpoints.unknownArchitecture(tmp)).problem())
        .startsWith("unknown architecture 'matryoshka_batchtopk'");
  }

  @Test
  void dSaeNotPositive(@TempDir Path tmp) {
    assertThat(cfg(CorruptCheckpoints.dSaeNotPositive(tmp)).problem())
        .isEqualTo("d_sae must be > 0, was 0");
  }

  @Test
  void dInNotPositive(@TempDir Path tmp) {
    assertThat(cfg(CorruptCheckpoints.dInNotPositive(tmp)).problem())
        .isEqualTo("d_in must be > 0, was -3");
  }

  @Test
  void malformedCfgJson(@TempDir Path tmp) {
    assertThat(cfg(CorruptCheckpoints.malformedConfig(tmp)).problem())
        .startsWith("malformed JSON: ")
        .contains("line 1");
  }

  @Test
  void inferenceCfgWithUnfoldedActivationScale(@TempDir Path tmp) {
    assertThat(cfg(CorruptCheckpoints.unfoldedActivationScale(tmp)).problem())
        .startsWith("normalize_activations is expected_average_only_in")
        .contains("must be folded into the weights");
  }

  @Test
  void missingCfgJson(@TempDir Path tmp) {
    assertThat(cfg(CorruptCheckpoints.missingConfig(tmp)).problem())
        .isEqualTo("does not exist: not a sae-lens SAE directory");
  }

  @Test
  void missingWeightsFile(@TempDir Path tmp) {
    assertThat(weights(CorruptCheckpoints.missingWeights(tmp)).problem())
        .isEqualTo("does not exist");
  }

  @Test
  void missingDirectory(@TempDir Path tmp) {
    Path dir = tmp.resolve("nowhere");
    assertThatThrownBy(() -> SaeCheckpoint.open(dir))
        .isInstanceOf(CheckpointException.class)
        .hasMessage(dir + ": SAE directory does not exist");
  }
}
