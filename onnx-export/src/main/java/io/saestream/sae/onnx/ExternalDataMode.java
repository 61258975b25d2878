package io.saestream.sae.onnx;

/**
 * Where {@link SaeOnnxExporter} puts the weights: inside the {@code .onnx} protobuf, or in an ONNX
 * external-data file {@code <model file name>.data} next to it.
 */
public enum ExternalDataMode {
  /**
   * External only when the embedded model would reach protobuf's 2 GiB limit ({@link
   * SaeOnnxExporter#EMBEDDED_MODEL_LIMIT_BYTES}).
   */
  AUTO,
  /** Always write the weights to the external-data file. */
  ALWAYS,
  /** Always embed; exporting fails when the model would reach 2 GiB. */
  NEVER
}
