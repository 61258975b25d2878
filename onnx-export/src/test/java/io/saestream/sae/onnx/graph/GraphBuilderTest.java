package io.saestream.sae.onnx.graph;

import static io.saestream.sae.onnx.graph.ElementType.BOOL;
import static io.saestream.sae.onnx.graph.ElementType.FLOAT32;
import static io.saestream.sae.onnx.graph.ElementType.FLOAT64;
import static io.saestream.sae.onnx.graph.ElementType.INT64;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class GraphBuilderTest {

  @Test
  void scalarsAreLittleEndianRawDataOfTheirElementType() {
    GraphBuilder b = new GraphBuilder("g");
    b.scalar("f32", FLOAT32, 0.1);
    b.scalar("f64", FLOAT64, 0.1);
    b.scalar("i64", INT64, -3);
    b.scalar("flag", BOOL, 1);
    GraphProto g = b.build();

    assertThat(g.getInitializerList())
        .extracting(TensorProto::getName, TensorProto::getDataType, TensorProto::getDimsCount)
        .containsExactly(
            tuple("f32", TensorProto.DataType.FLOAT_VALUE, 0),
            tuple("f64", TensorProto.DataType.DOUBLE_VALUE, 0),
            tuple("i64", TensorProto.DataType.INT64_VALUE, 0),
            tuple("flag", TensorProto.DataType.BOOL_VALUE, 0));
    assertThat(raw(g.getInitializer(0)).getFloat()).isEqualTo(0.1f);
    assertThat(raw(g.getInitializer(1)).getDouble()).isEqualTo(0.1);
    assertThat(raw(g.getInitializer(2)).getLong()).isEqualTo(-3L);
    assertThat(g.getInitializer(3).getRawData().toByteArray()).containsExactly(1);
  }

  @Test
  void int64ConstantsKeepEveryBitAndTheirShape() {
    GraphBuilder b = new GraphBuilder("g");
    b.int64s("shape", -1, Long.MAX_VALUE);
    b.int64Scalar("big", Long.MIN_VALUE);
    GraphProto g = b.build();

    assertThat(g.getInitializer(0).getDimsList()).containsExactly(2L);
    ByteBuffer shape = raw(g.getInitializer(0));
    assertThat(shape.getLong()).isEqualTo(-1L);
    assertThat(shape.getLong()).isEqualTo(Long.MAX_VALUE);
    assertThat(g.getInitializer(1).getDimsList()).isEmpty();
    assertThat(raw(g.getInitializer(1)).getLong()).isEqualTo(Long.MIN_VALUE);
  }

  @Test
  void scalarRejectsValuesItsTypeCannotHold() {
    GraphBuilder b = new GraphBuilder("g");
    assertThatThrownBy(() -> b.scalar("half", INT64, 0.5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("an int64 scalar must be a whole number, was 0.5");
    assertThatThrownBy(() -> b.scalar("nan", INT64, Double.NaN))
        .hasMessage("an int64 scalar must be a whole number, was NaN");
    assertThatThrownBy(() -> b.scalar("two63", INT64, 0x1p63))
        .hasMessage("an int64 scalar must be a whole number, was 9.223372036854776E18");
    assertThatThrownBy(() -> b.scalar("two", BOOL, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a bool scalar must be 0 or 1, was 2.0");
    assertThat(b.build().getInitializerCount()).isZero();
  }

  @Test
  void scalarTensorAttributeIsAOneElementTensorWithTheScalarsBytes() {
    GraphBuilder b = new GraphBuilder("g");
    for (ElementType type : ElementType.values()) {
      AttributeProto a = GraphBuilder.scalarTensorAttr("value", type, 1);
      String name = b.scalar("c_" + type, type, 1);

      assertThat(a.getName()).isEqualTo("value");
      assertThat(a.getType()).isEqualTo(AttributeProto.AttributeType.TENSOR);
      assertThat(a.getT().getDimsList()).containsExactly(1L);
      assertThat(a.getT().getDataType()).isEqualTo(type.dataType().getNumber());
      TensorProto constant =
          b.build().getInitializerList().stream()
              .filter(t -> t.getName().equals(name))
              .findFirst()
              .orElseThrow();
      assertThat(a.getT().getRawData()).isEqualTo(constant.getRawData());
      assertThat(a.getT().getRawData().size()).isEqualTo(type.byteSize());
    }
    assertThatThrownBy(() -> GraphBuilder.scalarTensorAttr("value", BOOL, -1))
        .hasMessage("a bool scalar must be 0 or 1, was -1.0");
  }

  @Test
  void attributesCarryTheirKindAndValue() {
    GraphProto branch = new GraphBuilder("branch").build();

    assertThat(GraphBuilder.intAttr("axis", -1).getI()).isEqualTo(-1);
    assertThat(GraphBuilder.intAttr("axis", -1).getType())
        .isEqualTo(AttributeProto.AttributeType.INT);
    assertThat(GraphBuilder.intsAttr("perm", 1, 0).getIntsList()).containsExactly(1L, 0L);
    assertThat(GraphBuilder.stringAttr("reduction", "add").getS().toStringUtf8()).isEqualTo("add");
    assertThat(GraphBuilder.graphAttr("then_branch", branch).getG()).isEqualTo(branch);
  }

  @Test
  void nodesAreNamedAfterTheirFirstOutputAndDeclarationsKeepTheirShape() {
    GraphBuilder b = new GraphBuilder("g");
    String x = b.input("x", FLOAT32, "N", 4);
    List<String> top =
        b.ops(
            List.of("values", "indices"),
            "TopK",
            List.of(GraphBuilder.intAttr("axis", 1)),
            x,
            b.int64s("k", 2));
    b.output(top.get(1), INT64, "N", 2L);
    GraphProto g = b.build();

    assertThat(g.getNode(0).getName()).isEqualTo("values");
    assertThat(g.getNode(0).getInputList()).containsExactly("x", "k");
    assertThat(g.getNode(0).getOutputList()).containsExactly("values", "indices");
    assertThat(b.inputs())
        .containsExactly(new GraphBuilder.Declaration("x", FLOAT32, List.of("N", "4")));
    assertThat(b.outputs())
        .containsExactly(new GraphBuilder.Declaration("indices", INT64, List.of("N", "2")));
    assertThat(g.getInput(0).getType().getTensorType().getShape().getDimList())
        .extracting(
            TensorShapeProto.Dimension::getDimParam, TensorShapeProto.Dimension::getDimValue)
        .containsExactly(tuple("N", 0L), tuple("", 4L));
  }

  @Test
  void aValueIsDefinedOnceAndReadOnlyAfterItsDefinition() {
    GraphBuilder b = new GraphBuilder("g");
    b.input("x", FLOAT32, "N");

    assertThatThrownBy(() -> b.scalar("x", FLOAT32, 0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("value x is defined twice");
    assertThatThrownBy(() -> b.op("y", "Relu", "z"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("Relu [y] reads undefined value z");
    assertThatThrownBy(() -> b.output("z", FLOAT32, "N"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("no value named z to output");
    assertThatThrownBy(() -> b.input("w", FLOAT32, 1.5f, List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dimension must be a String or a Number, was []");
    assertThat(b.build().getNodeCount()).isZero();
  }

  @Test
  void aBranchReadsTheOuterScopeButCannotShadowItOrReserveWeights() {
    GraphBuilder main = new GraphBuilder("g");
    String x = main.input("x", FLOAT32, "N");
    GraphBuilder branch = main.subgraph("branch");

    branch.op("y", "Relu", x);
    assertThat(branch.build().getName()).isEqualTo("branch");
    assertThatThrownBy(() -> main.op("y", "Relu", x)).hasMessage("value y is defined twice");
    assertThatThrownBy(() -> branch.reserve("W"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "streamed initializers belong to the main graph, not to branch branch (value W)");
  }

  @Test
  void reservedNamesAreReadableButNotInTheGraph() {
    GraphBuilder b = new GraphBuilder("g");
    String x = b.input("x", FLOAT32, "N", 2);
    String w = b.reserve("W");
    b.op("y", "MatMul", x, w);

    assertThat(b.build().getInitializerCount()).isZero();
    assertThatThrownBy(() -> b.reserve("W")).hasMessage("value W is defined twice");
  }

  @Test
  void onceCreatesASharedValueOnlyOnTheFirstRequest() {
    GraphBuilder b = new GraphBuilder("g");
    AtomicInteger created = new AtomicInteger();

    String first = b.once("zero", () -> b.scalar("zero_" + created.incrementAndGet(), FLOAT32, 0));
    String again = b.once("zero", () -> b.scalar("zero_" + created.incrementAndGet(), FLOAT32, 0));

    assertThat(first).isEqualTo("zero_1");
    assertThat(again).isEqualTo(first);
    assertThat(created).hasValue(1);
    assertThat(b.build().getInitializerCount()).isEqualTo(1);
  }

  private static ByteBuffer raw(TensorProto t) {
    return t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }
}
