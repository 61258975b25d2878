package io.saestream.synthetic.produce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.Dtype;
import io.saestream.synthetic.encoding.ActivationCodec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ActivationBatchTemplateTest {

  private static final ActivationBatchTemplate BF16 =
      new ActivationBatchTemplate(
          "m", "blocks.3.hook_resid_post", Dtype.BF16, Map.of("tenant", "x"));

  @Test
  void buildsARecordFromTheFirstRowsOfTheData() {
    float[] data = {1, 2, 3, 4, 5, 6, 99, 99};
    ActivationBatch batch =
        BF16.build(
            "s-1",
            7,
            data,
            3,
            2,
            List.of(" a", " b", " c"),
            new int[] {4, 5, 6, 7},
            TestBatches.T0);
    assertThat(batch.getModelId()).isEqualTo("m");
    assertThat(batch.getHookName()).isEqualTo("blocks.3.hook_resid_post");
    assertThat(batch.getSequenceId()).isEqualTo("s-1");
    assertThat(batch.getStartPosition()).isEqualTo(7);
    assertThat(batch.getNTokens()).isEqualTo(3);
    assertThat(batch.getDIn()).isEqualTo(2);
    assertThat(batch.getDtype()).isEqualTo(Dtype.BF16);
    assertThat(batch.getData().remaining()).isEqualTo(3 * 2 * 2);
    assertThat(ActivationCodec.decode(batch.getData(), Dtype.BF16))
        .containsExactly(1, 2, 3, 4, 5, 6);
    assertThat(batch.getTokens()).containsExactly(" a", " b", " c");
    assertThat(batch.getTokenIds()).containsExactly(4, 5, 6);
    assertThat(batch.getProducedAt()).isEqualTo(TestBatches.T0);
    assertThat(batch.getAttributes()).containsExactly(Map.entry("tenant", "x"));
  }

  @Test
  void rejectsInconsistentInput() {
    assertThatThrownBy(() -> BF16.build("s", 0, new float[5], 3, 2, null, null, TestBatches.T0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("data must hold n_tokens × d_in = 3 × 2 floats (both > 0), had 5");
    assertThatThrownBy(() -> BF16.build("s", -1, new float[6], 3, 2, null, null, TestBatches.T0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("start position must be >= 0, was -1");
    assertThatThrownBy(
            () -> BF16.build("s", 0, new float[6], 3, 2, List.of("a"), null, TestBatches.T0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("tokens must have n_tokens = 3 entries, had 1");
    assertThatThrownBy(
            () -> BF16.build("s", 0, new float[6], 3, 2, null, new int[2], TestBatches.T0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("token ids must have n_tokens = 3 entries, had 2");
    assertThatThrownBy(() -> new ActivationBatchTemplate(" ", "h", Dtype.F32, Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("model id must not be blank");
    assertThatThrownBy(() -> new ActivationBatchTemplate("m", "", Dtype.F32, Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("hook name must not be blank");
  }
}
