package io.saestream.streams.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import io.saestream.streams.config.Device;
import io.saestream.streams.config.InferenceSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * Device resolution. The cuda and auto cases are written for the CPU build of ONNX Runtime (the
 * default profile); with {@code -Pgpu} on a GPU machine they do not apply.
 */
class InferenceEngineTest {

  static boolean cudaProviderMissing() {
    return !OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA);
  }

  @Test
  void cpuUsesTheCpuProvider() {
    try (InferenceEngine engine = InferenceEngine.create(InferenceSettings.defaults())) {
      assertThat(engine.provider()).isEqualTo(ExecutionProvider.CPU);
      assertThat(engine.fallbackReason()).isNull();
    }
  }

  @Test
  @EnabledIf("cudaProviderMissing")
  void cudaWithoutCudaFailsAtStartUpSayingWhatIsMissing() {
    assertThatThrownBy(() -> InferenceEngine.create(new InferenceSettings(Device.CUDA, 0, 1)))
        .isInstanceOf(InferenceException.class)
        .hasMessageStartingWith("inference.device is cuda but CUDA cannot be used")
        .hasMessageContaining("no CUDA execution provider")
        .hasMessageContaining("-Pgpu")
        .hasMessageContaining("Set inference.device to auto or cpu");
  }

  @Test
  @EnabledIf("cudaProviderMissing")
  void autoWithoutCudaFallsBackToTheCpuAndSaysWhy() {
    try (InferenceEngine engine =
        InferenceEngine.create(new InferenceSettings(Device.AUTO, 0, 1))) {
      assertThat(engine.provider()).isEqualTo(ExecutionProvider.CPU);
      assertThat(engine.fallbackReason()).contains("no CUDA execution provider");
    }
  }

  @Test
  void aModelThatIsNotAnAnalyzeGraphIsRefused() {
    try (InferenceEngine engine = InferenceEngine.create(InferenceSettings.defaults())) {
      assertThatThrownBy(() -> engine.openSession("junk", new byte[] {1, 2, 3}))
          .isInstanceOf(InferenceException.class)
          .hasMessageStartingWith("SAE junk: ONNX Runtime cannot create a session on CPU");
    }
  }
}
