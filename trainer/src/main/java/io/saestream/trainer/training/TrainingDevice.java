package io.saestream.trainer.training;

/** Where the training step runs. */
public enum TrainingDevice {
  /** ONNX Runtime's CPU execution provider (MLAS). */
  CPU,
  /** The CUDA execution provider; fails at start when CUDA cannot be used. */
  CUDA,
  /** CUDA when it works, else the CPU with one warning. */
  AUTO
}
