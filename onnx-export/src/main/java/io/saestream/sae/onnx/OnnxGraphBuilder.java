package io.saestream.sae.onnx;

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
 * Accumulates one ONNX graph: nodes named after the value they produce, graph inputs and outputs,
 * small constants (embedded as {@code raw_data}) and weight initializers whose bytes are streamed
 * later by {@link OnnxModelWriter}. Single-use, not thread-safe.
 */
final class OnnxGraphBuilder {

  /** Element types the SAE graphs use. */
  enum ElementType {
    FLOAT32(TensorProto.DataType.FLOAT, "float32"),
    INT64(TensorProto.DataType.INT64, "int64");

    final TensorProto.DataType onnx;
    final String specName;

    ElementType(TensorProto.DataType onnx, String specName) {
      this.onnx = onnx;
      this.specName = specName;
    }
  }

  /** A weight whose bytes are written after the graph skeleton. */
  record WeightInitializer(String name, List<Long> dims, WeightData data) {

    WeightInitializer {
      dims = List.copyOf(dims);
    }
  }

  private final GraphProto.Builder graph = GraphProto.newBuilder();
  private final Set<String> values;
  private final boolean subgraph;
  private final List<WeightInitializer> weights = new ArrayList<>();
  private final List<TensorSpec> inputs = new ArrayList<>();
  private final List<TensorSpec> outputs = new ArrayList<>();

  OnnxGraphBuilder(String graphName) {
    this(graphName, new HashSet<>(), false);
  }

  private OnnxGraphBuilder(String graphName, Set<String> values, boolean subgraph) {
    graph.setName(graphName);
    this.values = values;
    this.subgraph = subgraph;
  }

  /**
   * A builder for a control-flow branch: it reads this graph's values (outer scope) and shares its
   * namespace, since ONNX forbids a subgraph value from shadowing an outer one.
   */
  OnnxGraphBuilder subgraph(String graphName) {
    return new OnnxGraphBuilder(graphName, values, true);
  }

  /** Declares a graph input; each dim is a size or a symbolic name. Returns {@code name}. */
  String input(String name, ElementType type, Object... dims) {
    claim(name);
    graph.addInput(valueInfo(name, type, dims));
    inputs.add(spec(name, type, dims));
    return name;
  }

  /** Declares the existing value {@code name} a graph output. */
  void output(String name, ElementType type, Object... dims) {
    if (!values.contains(name)) {
      throw new IllegalStateException("no value named " + name + " to output");
    }
    graph.addOutput(valueInfo(name, type, dims));
    outputs.add(spec(name, type, dims));
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

  /** A float32 scalar constant. */
  String scalar(String name, float value) {
    ByteBuffer b = ByteBuffer.allocate(Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.putFloat(value).flip();
    return constant(name, TensorProto.DataType.FLOAT, new long[0], ByteString.copyFrom(b));
  }

  /** A 1-d int64 constant (axes, K, shapes). */
  String int64s(String name, long... v) {
    return constant(name, TensorProto.DataType.INT64, new long[] {v.length}, int64Bytes(v));
  }

  /** An int64 scalar constant. */
  String int64Scalar(String name, long v) {
    return constant(name, TensorProto.DataType.INT64, new long[0], int64Bytes(v));
  }

  /** A float32 weight initializer streamed by the model writer. */
  String weight(String name, WeightData data, long... dims) {
    if (subgraph) {
      throw new IllegalStateException("weights belong to the main graph, not to branch " + name);
    }
    long n = 1;
    for (long d : dims) {
      n *= d;
    }
    if (n != data.elementCount()) {
      throw new IllegalStateException(
          "weight "
              + name
              + " of shape "
              + Arrays.toString(dims)
              + " has "
              + data.elementCount()
              + " elements");
    }
    claim(name);
    List<Long> shape = new ArrayList<>();
    for (long d : dims) {
      shape.add(d);
    }
    weights.add(new WeightInitializer(name, shape, data));
    return name;
  }

  /** The graph without weight initializers. */
  GraphProto skeleton() {
    return graph.build();
  }

  List<WeightInitializer> weights() {
    return List.copyOf(weights);
  }

  List<TensorSpec> inputs() {
    return List.copyOf(inputs);
  }

  List<TensorSpec> outputs() {
    return List.copyOf(outputs);
  }

  static AttributeProto intAttr(String name, long v) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.INT)
        .setI(v)
        .build();
  }

  static AttributeProto graphAttr(String name, GraphProto g) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.GRAPH)
        .setG(g)
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

  /** A one-element int64 tensor attribute (ConstantOfShape's {@code value}). */
  static AttributeProto int64TensorAttr(String name, long v) {
    TensorProto t =
        TensorProto.newBuilder()
            .setDataType(TensorProto.DataType.INT64_VALUE)
            .addDims(1)
            .setRawData(int64Bytes(v))
            .build();
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.TENSOR)
        .setT(t)
        .build();
  }

  /** A one-element float32 tensor attribute (ConstantOfShape's {@code value}). */
  static AttributeProto floatTensorAttr(String name, float v) {
    ByteBuffer b = ByteBuffer.allocate(Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.putFloat(v).flip();
    TensorProto t =
        TensorProto.newBuilder()
            .setDataType(TensorProto.DataType.FLOAT_VALUE)
            .addDims(1)
            .setRawData(ByteString.copyFrom(b))
            .build();
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.TENSOR)
        .setT(t)
        .build();
  }

  private String constant(String name, TensorProto.DataType type, long[] dims, ByteString raw) {
    claim(name);
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type.getNumber());
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

  private static TensorSpec spec(String name, ElementType type, Object... dims) {
    List<String> ds = new ArrayList<>();
    for (Object d : dims) {
      ds.add(String.valueOf(d));
    }
    return new TensorSpec(name, type.specName, ds);
  }
}
