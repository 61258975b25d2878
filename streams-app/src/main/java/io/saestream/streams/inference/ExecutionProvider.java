package io.saestream.streams.inference;

/** The ONNX Runtime execution provider an {@link InferenceEngine} resolved its device to. */
public enum ExecutionProvider {
  /** ONNX Runtime's CPU provider (MLAS). */
  CPU,
  /** NVIDIA CUDA, with the CPU provider for the operators CUDA lacks. */
  CUDA
}
