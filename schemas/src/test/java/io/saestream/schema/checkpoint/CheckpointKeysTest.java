package io.saestream.schema.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CheckpointKeysTest {

  @Test
  void manifestKeysAreTheSaeIdAndChunkKeysAddVersionAndIndex() {
    assertThat(CheckpointKeys.manifestKey("gpt2-res-8")).isEqualTo("gpt2-res-8");
    assertThat(CheckpointKeys.chunkKey("gpt2-res-8", 12, 3)).isEqualTo("gpt2-res-8/12/3");
  }

  @ParameterizedTest
  @ValueSource(strings = {"a/b", "a b", "tab\there", "", "nul\u0000"})
  void saeIdsThatWouldMakeKeysAmbiguousAreRefused(String id) {
    assertThat(CheckpointKeys.saeIdProblem(id)).isNotNull();
    assertThatThrownBy(() -> CheckpointKeys.manifestKey(id))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("sae_id must");
  }

  @Test
  void overlongSaeIdsAreRefused() {
    assertThat(CheckpointKeys.saeIdProblem("x".repeat(200))).isNull();
    assertThat(CheckpointKeys.saeIdProblem("x".repeat(201)))
        .isEqualTo("sae_id must have 1 to 200 characters, has 201");
  }

  @Test
  void negativeVersionsAndIndicesAndPartitionCountsAreRefused() {
    assertThatThrownBy(() -> CheckpointKeys.chunkKey("a", -1, 0))
        .hasMessage("version must be >= 0, was -1");
    assertThatThrownBy(() -> CheckpointKeys.chunkKey("a", 1, -2))
        .hasMessage("index must be >= 0, was -2");
    assertThatThrownBy(() -> CheckpointKeys.partitionFor("a", 0))
        .hasMessage("partitions must be > 0, was 0");
  }

  @Test
  void everyRecordOfOneSaeGoesToOnePartition() {
    assertThat(CheckpointKeys.partitionFor("gpt2-res-8", 1)).isZero();
    assertThat(CheckpointKeys.partitionFor("gpt2-res-8", 12))
        .isEqualTo(CheckpointKeys.partitionFor("gpt2-res-8", 12))
        .isBetween(0, 11);
  }
}
