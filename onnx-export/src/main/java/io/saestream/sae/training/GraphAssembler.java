package io.saestream.sae.training;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Accumulates one ONNX graph whose values are all named explicitly (a node is named after its first
 * output), so that a runtime error or a profile points at a readable name. Constants are embedded
 * as initializers; the training graphs have no weights of their own: parameters arrive as inputs.
 *
 * <p>A trimmed sibling of {@code io.saestream.sae.onnx.OnnxGraphBuilder}, which is package-private
 * there and knows only float32 and int64; the training graphs also need float64 (the
 * finite-difference variant) and bool (the dead-latent mask). Single-use, not thread-safe.
 */
final class GraphAssembler {

  /** Element types the training graphs use. */
  enum ElementType {
    FLOAT32(TensorProto.DataType.FLOAT),
    FLOAT64(TensorProto.DataType.DOUBLE),
    INT64(TensorProto.DataType.INT64),
    BOOL(TensorProto.DataType.BOOL);

    final TensorProto.DataType onnx;

    ElementType(TensorProto.DataType onnx) {
      this.onnx = onnx;
    }
  }

  private final GraphProto.Builder graph = GraphProto.newBuilder();
  private final Set<String> values = new HashSet<>();
  private final List<String> inputs = new ArrayList<>();
  private final List<String> outputs = new ArrayList<>();

  GraphAssembler(String graphName) {
    graph.setName(graphName);
  }

  /** Declares a graph input; each dim is a size or a symbolic name. Returns {@code name}. */
  String input(String name, ElementType type, Object... dims) {
    claim(name);
    graph.addInput(valueInfo(name, type, dims));
    inputs.add(name);
    return name;
  }

  /** Declares the existing value {@code name} a graph output. */
  void output(String name, ElementType type, Object... dims) {
    if (!values.contains(name)) {
      throw new IllegalStateException("no value named " + name + " to output");
    }
    graph.addOutput(valueInfo(name, type, dims));
    outputs.add(name);
  }

  /** Adds a node with one output called {@code out}. Returns {@code out}. */
  String op(String out, String opType, List<AttributeProto> attributes, String... in) {
    return ops(List.of(out), opType, attributes, in).get(0);
  }

  /** Adds a node without attributes. Returns {@code out}. */
  String op(String out, String opType, String... in) {
    return op(out, opType, List.of(), in);
  }

  /** Adds a node with several outputs. Returns {@code outs}. */
  List<String> ops(
      List<String> outs, String opType, List<AttributeProto> attributes, String... in) {
    for (String i : in) {
      if (!values.contains(i)) {
        throw new IllegalStateException(opType + " " + outs + " reads undefined value " + i);
      }
    }
    outs.forEach(this::claim);
    graph.addNode(
        NodeProto.newBuilder()
            .setName(outs.get(0))
            .setOpType(opType)
            .addAllInput(Arrays.asList(in))
            .addAllOutput(outs)
            .addAllAttribute(attributes));
    return outs;
  }

  /** A real scalar constant of element type {@code type} (FLOAT32 or FLOAT64). */
  String real(String name, ElementType type, double value) {
    return switch (type) {
      case FLOAT32 -> {
        ByteBuffer b = ByteBuffer.allocate(Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.putFloat((float) value).flip();
        yield constant(name, type, new long[0], ByteString.copyFrom(b));
      }
      case FLOAT64 -> {
        ByteBuffer b = ByteBuffer.allocate(Double.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.putDouble(value).flip();
        yield constant(name, type, new long[0], ByteString.copyFrom(b));
      }
      case INT64, BOOL -> throw new IllegalArgumentException("not a real type: " + type);
    };
  }

  /** A 1-d int64 constant (axes, K, shapes). */
  String int64s(String name, long... v) {
    return constant(name, ElementType.INT64, new long[] {v.length}, int64Bytes(v));
  }

  /** An int64 scalar constant. */
  String int64Scalar(String name, long v) {
    return constant(name, ElementType.INT64, new long[0], int64Bytes(v));
  }

  /** The graph built so far. */
  GraphProto graph() {
    return graph.build();
  }

  List<String> inputs() {
    return List.copyOf(inputs);
  }

  List<String> outputs() {
    return List.copyOf(outputs);
  }

  static AttributeProto intAttr(String name, long v) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.INT)
        .setI(v)
        .build();
  }

  static AttributeProto stringAttr(String name, String v) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.STRING)
        .setS(ByteString.copyFromUtf8(v))
        .build();
  }

  static AttributeProto intsAttr(String name, long... v) {
    AttributeProto.Builder a =
        AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long x : v) {
      a.addInts(x);
    }
    return a.build();
  }

  /** A one-element tensor attribute of {@code type} (ConstantOfShape's {@code value}). */
  static AttributeProto scalarTensorAttr(String name, ElementType type, double v) {
    ByteBuffer b = ByteBuffer.allocate(Double.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    switch (type) {
      case FLOAT32 -> b.putFloat((float) v);
      case FLOAT64 -> b.putDouble(v);
      case INT64 -> b.putLong((long) v);
      case BOOL -> b.put((byte) (v != 0 ? 1 : 0));
    }
    b.flip();
    TensorProto t =
        TensorProto.newBuilder()
            .setDataType(type.onnx.getNumber())
            .addDims(1)
            .setRawData(ByteString.copyFrom(b))
            .build();
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.TENSOR)
        .setT(t)
        .build();
  }

  private String constant(String name, ElementType type, long[] dims, ByteString raw) {
    claim(name);
    TensorProto.Builder t =
        TensorProto.newBuilder().setName(name).setDataType(type.onnx.getNumber());
    for (long d : dims) {
      t.addDims(d);
    }
    graph.addInitializer(t.setRawData(raw));
    return name;
  }

  private void claim(String name) {
    if (!values.add(name)) {
      throw new IllegalStateException("value " + name + " is defined twice");
    }
  }

  private static ByteString int64Bytes(long... v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (long x : v) {
      b.putLong(x);
    }
    b.flip();
    return ByteString.copyFrom(b);
  }

  private static ValueInfoProto valueInfo(String name, ElementType type, Object... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (Object d : dims) {
      TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
      if (d instanceof String s) {
        dim.setDimParam(s);
      } else if (d instanceof Number num) {
        dim.setDimValue(num.longValue());
      } else {
        throw new IllegalArgumentException("dimension must be a String or a Number, was " + d);
      }
      shape.addDim(dim);
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(
                    TypeProto.Tensor.newBuilder()
                        .setElemType(type.onnx.getNumber())
                        .setShape(shape)))
        .build();
  }
}
