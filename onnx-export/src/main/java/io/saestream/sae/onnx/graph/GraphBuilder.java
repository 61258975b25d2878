package io.saestream.sae.onnx.graph;

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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Accumulates one ONNX graph whose values are all named explicitly (a node is named after its first
 * output), so that a runtime error or a profile points at a readable name. Every value is defined
 * once and read only after its definition; violations throw {@link IllegalStateException} while
 * building, not later in ONNX Runtime. Small constants are embedded as {@code raw_data}
 * initializers; large weights are left to the caller (see {@link #reserve}).
 *
 * <p>Internal API of onnx-export (see the package documentation). Single-use, not thread-safe: one
 * instance per graph, plus one per control-flow branch from {@link #subgraph}.
 */
public final class GraphBuilder {

  /**
   * A declared graph input or output.
   *
   * @param name the ONNX value name
   * @param type its element type
   * @param dims each a decimal size ({@code "768"}) or a symbolic name ({@code "N"}), outermost
   *     first
   */
  public record Declaration(String name, ElementType type, List<String> dims) {

    /** Validates and copies {@code dims}. */
    public Declaration {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(type, "type");
      dims = List.copyOf(dims);
    }
  }

  private final GraphProto.Builder graph = GraphProto.newBuilder();
  private final String graphName;
  private final Set<String> values;
  private final boolean subgraph;
  private final Map<String, String> shared = new HashMap<>();
  private final List<Declaration> inputs = new ArrayList<>();
  private final List<Declaration> outputs = new ArrayList<>();

  /** An empty main graph called {@code graphName}. */
  public GraphBuilder(String graphName) {
    this(graphName, new HashSet<>(), false);
  }

  private GraphBuilder(String graphName, Set<String> values, boolean subgraph) {
    graph.setName(graphName);
    this.graphName = graphName;
    this.values = values;
    this.subgraph = subgraph;
  }

  /**
   * A builder for a control-flow branch: it reads this graph's values (outer scope) and shares its
   * namespace, since ONNX forbids a subgraph value from shadowing an outer one.
   */
  public GraphBuilder subgraph(String branchName) {
    return new GraphBuilder(branchName, values, true);
  }

  /** Declares a graph input; each dim is a size or a symbolic name. Returns {@code name}. */
  public String input(String name, ElementType type, Object... dims) {
    ValueInfoProto info = valueInfo(name, type, dims);
    claim(name);
    graph.addInput(info);
    inputs.add(declaration(name, type, dims));
    return name;
  }

  /** Declares the existing value {@code name} a graph output. */
  public void output(String name, ElementType type, Object... dims) {
    if (!values.contains(name)) {
      throw new IllegalStateException("no value named " + name + " to output");
    }
    graph.addOutput(valueInfo(name, type, dims));
    outputs.add(declaration(name, type, dims));
  }

  /** Adds a node with one output called {@code out}. Returns {@code out}. */
  public String op(String out, String opType, List<AttributeProto> attributes, String... in) {
    return ops(List.of(out), opType, attributes, in).get(0);
  }

  /** Adds a node without attributes. Returns {@code out}. */
  public String op(String out, String opType, String... in) {
    return op(out, opType, List.of(), in);
  }

  /** Adds a node with several outputs. Returns {@code outs}. */
  public List<String> ops(
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

  /**
   * A scalar constant of {@code type}: FLOAT32 rounds {@code value}, FLOAT64 keeps it, INT64 needs
   * a whole number (use {@link #int64Scalar} beyond 2^53), BOOL needs 0 or 1. Returns {@code name}.
   */
  public String scalar(String name, ElementType type, double value) {
    return constant(name, type.dataType(), new long[0], scalarBytes(type, value));
  }

  /** A 1-d int64 constant (axes, K, shapes). Returns {@code name}. */
  public String int64s(String name, long... v) {
    return constant(name, TensorProto.DataType.INT64, new long[] {v.length}, int64Bytes(v));
  }

  /** An int64 scalar constant. Returns {@code name}. */
  public String int64Scalar(String name, long v) {
    return constant(name, TensorProto.DataType.INT64, new long[0], int64Bytes(v));
  }

  /**
   * Claims {@code name} for an initializer the caller adds to the main graph itself (a weight whose
   * bytes are streamed after the graph skeleton), so that nodes may read it. Returns {@code name}.
   */
  public String reserve(String name) {
    if (subgraph) {
      throw new IllegalStateException(
          "streamed initializers belong to the main graph, not to branch "
              + graphName
              + " (value "
              + name
              + ")");
    }
    claim(name);
    return name;
  }

  /**
   * The value {@code create} made the first time {@code key} was asked for: a constant or weight
   * that several nodes read is defined once and shared.
   */
  public String once(String key, Supplier<String> create) {
    String existing = shared.get(key);
    if (existing != null) {
      return existing;
    }
    String name = create.get();
    shared.put(key, name);
    return name;
  }

  /** The graph built so far (without the initializers reserved by the caller). */
  public GraphProto build() {
    return graph.build();
  }

  /** The declared inputs, in declaration order. */
  public List<Declaration> inputs() {
    return List.copyOf(inputs);
  }

  /** The declared outputs, in declaration order. */
  public List<Declaration> outputs() {
    return List.copyOf(outputs);
  }

  /** An INT attribute. */
  public static AttributeProto intAttr(String name, long v) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.INT)
        .setI(v)
        .build();
  }

  /** An INTS attribute. */
  public static AttributeProto intsAttr(String name, long... v) {
    AttributeProto.Builder a =
        AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long x : v) {
      a.addInts(x);
    }
    return a.build();
  }

  /** A STRING attribute, UTF-8 encoded. */
  public static AttributeProto stringAttr(String name, String v) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.STRING)
        .setS(ByteString.copyFromUtf8(v))
        .build();
  }

  /** A GRAPH attribute (an If branch). */
  public static AttributeProto graphAttr(String name, GraphProto g) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.GRAPH)
        .setG(g)
        .build();
  }

  /**
   * A one-element tensor attribute of {@code type} (ConstantOfShape's {@code value}), with {@code
   * v} converted as {@link #scalar} does.
   */
  public static AttributeProto scalarTensorAttr(String name, ElementType type, double v) {
    TensorProto t =
        TensorProto.newBuilder()
            .setDataType(type.dataType().getNumber())
            .addDims(1)
            .setRawData(scalarBytes(type, v))
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

  private static ByteString scalarBytes(ElementType type, double v) {
    ByteBuffer b = ByteBuffer.allocate(type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    switch (type) {
      case FLOAT32 -> b.putFloat((float) v);
      case FLOAT64 -> b.putDouble(v);
      case INT64 -> {
        // 2^63 rounds to Long.MAX_VALUE on the cast, so the round trip rejects it too.
        if ((double) (long) v != v || v >= 0x1p63) {
          throw new IllegalArgumentException("an int64 scalar must be a whole number, was " + v);
        }
        b.putLong((long) v);
      }
      case BOOL -> {
        if (v != 0 && v != 1) {
          throw new IllegalArgumentException("a bool scalar must be 0 or 1, was " + v);
        }
        b.put((byte) v);
      }
    }
    b.flip();
    return ByteString.copyFrom(b);
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
                        .setElemType(type.dataType().getNumber())
                        .setShape(shape)))
        .build();
  }

  private static Declaration declaration(String name, ElementType type, Object... dims) {
    List<String> ds = new ArrayList<>();
    for (Object d : dims) {
      ds.add(String.valueOf(d));
    }
    return new Declaration(name, type, ds);
  }
}
