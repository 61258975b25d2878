package io.saestream.streams.config;

import java.util.Objects;

/**
 * How ONNX Runtime runs the SAEs.
 *
 * @param device cpu, cuda or auto
 * @param cudaDeviceId the CUDA device ordinal used when the device is cuda or auto
 * @param intraOpThreads threads each SAE session uses inside one operator; 0 lets ONNX Runtime
 *     choose (one per physical core). Every stream thread runs inferences concurrently, so {@code
 *     streams.threads × intra-op-threads} should not exceed the cores available.
 */
public record InferenceSettings(Device device, int cudaDeviceId, int intraOpThreads) {

  /** Default {@link #intraOpThreads()}. */
  public static final int DEFAULT_INTRA_OP_THREADS = 1;

  /** Validates the settings. */
  public InferenceSettings {
    Objects.requireNonNull(device, "inference.device");
    if (cudaDeviceId < 0) {
      throw new IllegalArgumentException(
          "inference.cuda-device-id must be >= 0, was " + cudaDeviceId);
    }
    if (intraOpThreads < 0) {
      throw new IllegalArgumentException(
          "inference.intra-op-threads must be >= 0 (0 = ONNX Runtime's default), was "
              + intraOpThreads);
    }
  }

  /** CPU, device 0, one intra-op thread. */
  public static InferenceSettings defaults() {
    return new InferenceSettings(Device.CPU, 0, DEFAULT_INTRA_OP_THREADS);
  }
}
