package io.saestream.trainer.config;

import io.saestream.trainer.training.TrainingDevice;
import java.time.Duration;
import java.util.Objects;

/**
 * Process-wide trainer settings. Immutable.
 *
 * @param device {@code runtime.device}: cpu, cuda or auto
 * @param cudaDeviceId {@code runtime.cuda-device-id}
 * @param intraOpThreads {@code runtime.intra-op-threads} (0: ONNX Runtime decides)
 * @param pollTimeout {@code runtime.poll-timeout}: longest wait of one consumer poll
 * @param skipLogEvery {@code runtime.skip-log-every}: a skipped record is logged once per this many
 *     skips of the same reason
 */
public record RuntimeSettings(
    TrainingDevice device,
    int cudaDeviceId,
    int intraOpThreads,
    Duration pollTimeout,
    long skipLogEvery) {

  /** Validates every field. */
  public RuntimeSettings {
    Objects.requireNonNull(device, "device");
    Objects.requireNonNull(pollTimeout, "pollTimeout");
    if (cudaDeviceId < 0) {
      throw new IllegalArgumentException(
          "runtime.cuda-device-id must be >= 0, was " + cudaDeviceId);
    }
    if (intraOpThreads < 0) {
      throw new IllegalArgumentException(
          "runtime.intra-op-threads must be >= 0, was " + intraOpThreads);
    }
    if (pollTimeout.isNegative() || pollTimeout.isZero()) {
      throw new IllegalArgumentException("runtime.poll-timeout must be > 0, was " + pollTimeout);
    }
    if (skipLogEvery <= 0) {
      throw new IllegalArgumentException("runtime.skip-log-every must be > 0, was " + skipLogEvery);
    }
  }

  /** CPU, ONNX Runtime's threads, 500 ms polls, one log line per 1000 skips. */
  public static RuntimeSettings defaults() {
    return new RuntimeSettings(TrainingDevice.CPU, 0, 0, Duration.ofMillis(500), 1000);
  }
}
