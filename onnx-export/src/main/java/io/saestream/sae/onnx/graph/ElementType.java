package io.saestream.sae.onnx.graph;

import ai.onnx.proto.OnnxMl.TensorProto;

/**
 * The tensor element types the sae-stream graphs use, with their ONNX codes. Internal API of
 * onnx-export (see the package documentation). Immutable.
 */
public enum ElementType {
  FLOAT32(TensorProto.DataType.FLOAT, "float32", Float.BYTES),
  FLOAT64(TensorProto.DataType.DOUBLE, "float64", Double.BYTES),
  INT64(TensorProto.DataType.INT64, "int64", Long.BYTES),
  BOOL(TensorProto.DataType.BOOL, "bool", 1);

  private final TensorProto.DataType dataType;
  private final String specName;
  private final int byteSize;

  ElementType(TensorProto.DataType dataType, String specName, int byteSize) {
    this.dataType = dataType;
    this.specName = specName;
    this.byteSize = byteSize;
  }

  /** The ONNX {@code TensorProto.DataType}. */
  public TensorProto.DataType dataType() {
    return dataType;
  }

  /** The numpy-style name ({@code "float32"}, {@code "int64"}…) used in tensor specs. */
  public String specName() {
    return specName;
  }

  /** Bytes per element in {@code raw_data}. */
  public int byteSize() {
    return byteSize;
  }
}
