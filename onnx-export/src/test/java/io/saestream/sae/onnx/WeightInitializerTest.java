package io.saestream.sae.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class WeightInitializerTest {

  @Test
  void aShapeThatDoesNotHoldTheDataIsRejected() {
    WeightData six = WeightData.of(new float[6]);

    assertThatThrownBy(() -> new WeightInitializer("W_enc", List.of(2L, 4L), six))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("weight W_enc of shape [2, 4] has 6 elements");
    assertThat(new WeightInitializer("W_enc", List.of(2L, 3L), six).dims()).containsExactly(2L, 3L);
  }
}
