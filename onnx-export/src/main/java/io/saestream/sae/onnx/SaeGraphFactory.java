package io.saestream.sae.onnx;

import static io.saestream.sae.onnx.graph.ElementType.FLOAT32;
import static io.saestream.sae.onnx.graph.ElementType.INT64;
import static io.saestream.sae.onnx.graph.GraphBuilder.graphAttr;
import static io.saestream.sae.onnx.graph.GraphBuilder.intAttr;
import static io.saestream.sae.onnx.graph.GraphBuilder.intsAttr;
import static io.saestream.sae.onnx.graph.GraphBuilder.scalarTensorAttr;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.saestream.sae.checkpoint.ActivationNormalization;
import io.saestream.sae.checkpoint.Architecture;
import io.saestream.sae.onnx.graph.GraphBuilder;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Builds the sae-lens 6.18 inference math as ONNX graphs (see {@link GraphKind} for the contracts).
 * The graphs never produce a dense {@code [N, d_sae]} output and decode sparsely: the K selected
 * decoder rows are gathered per token and contracted with the K values, so decoding costs {@code
 * O(N·K·d_in)} instead of a second {@code N×d_sae×d_in} GEMM. Stateless.
 */
final class SaeGraphFactory {

  /**
   * Rows with ‖x‖ below this are treated as having this norm by constant_norm_rescale: a zero row
   * then encodes as the zero vector and decodes to (almost exactly) zero instead of NaN.
   */
  static final float MIN_NORM_FOR_RESCALE = 1e-30f;

  /** layer_norm's epsilon in sae-lens. */
  static final float LAYER_NORM_EPS = 1e-5f;

  /** Lower bound on each norm in the cosine, as torch.nn.functional.cosine_similarity. */
  static final float COSINE_EPS = 1e-8f;

  /** A graph ready to be written, weights still to be streamed. */
  record GraphPlan(
      GraphProto graph,
      List<WeightInitializer> weights,
      List<TensorSpec> inputs,
      List<TensorSpec> outputs) {}

  private SaeGraphFactory() {}

  /** The graph of {@code kind} with K = {@code slots} (K is dynamic in the decoder). */
  static GraphPlan build(ExportableSae sae, GraphKind kind, int slots) {
    Graph g = new Graph(sae, kind);
    switch (kind) {
      case ANALYZE -> {
        String x = g.b.input("x", FLOAT32, "N", sae.dIn());
        Encoded e = g.encode(x, slots);
        String out = g.decode(e.topkIndices(), e.values(), e.norm(), "sae_out");
        g.metrics(x, out);
        g.b.output("indices", INT64, "N", slots);
        g.b.output("values", FLOAT32, "N", slots);
        g.b.output("sae_out", FLOAT32, "N", sae.dIn());
        g.b.output("sse", FLOAT32, "N");
        g.b.output("relative_error", FLOAT32, "N");
        g.b.output("cosine", FLOAT32, "N");
        g.b.output("l0", INT64, "N");
        g.b.output("dropped", INT64, "N");
      }
      case ENCODER -> {
        String x = g.b.input("x", FLOAT32, "N", sae.dIn());
        Encoded e = g.encode(x, slots);
        g.b.output("indices", INT64, "N", slots);
        g.b.output("values", FLOAT32, "N", slots);
        g.b.output("l0", INT64, "N");
        g.b.output("dropped", INT64, "N");
        NormState norm = e.norm();
        if (norm != null) {
          g.b.op("norm_scale", "Squeeze", norm.scaleColumn(), g.axis1());
          g.b.op("norm_shift", "Squeeze", norm.shiftColumn(), g.axis1());
          g.b.output("norm_scale", FLOAT32, "N");
          g.b.output("norm_shift", FLOAT32, "N");
        }
      }
      case DECODER -> {
        String indices = g.b.input("indices", INT64, "N", "K");
        String values = g.b.input("values", FLOAT32, "N", "K");
        NormState norm = null;
        if (sae.normalization() != ActivationNormalization.NONE) {
          String scale = g.b.input("norm_scale", FLOAT32, "N");
          String shift = g.b.input("norm_shift", FLOAT32, "N");
          norm =
              new NormState(
                  g.b.op("norm_scale_column", "Unsqueeze", scale, g.axis1()),
                  g.b.op("norm_shift_column", "Unsqueeze", shift, g.axis1()));
        }
        // Slots marked -1 contribute nothing whatever their value; the gather needs a valid row.
        String zeroI = g.b.int64Scalar("zero_int64", 0);
        String valid = g.b.op("slot_used", "GreaterOrEqual", indices, zeroI);
        String safeIndices = g.b.op("gather_indices", "Max", indices, zeroI);
        String usedValues = g.b.op("used_values", "Where", valid, values, g.zeroF());
        g.decode(safeIndices, usedValues, norm, "sae_out");
        g.b.output("sae_out", FLOAT32, "N", sae.dIn());
      }
    }
    return g.plan();
  }

  /**
   * The benchmark baseline: input {@code x} float32 {@code [N, d_in]}, output {@code hidden_pre}
   * float32 {@code [N, d_sae]} = {@code x·W_enc + b_enc} ({@code b_gate} for gated SAEs).
   */
  static GraphPlan bareEncoder(ExportableSae sae) {
    Graph g = new Graph(sae, null);
    String x = g.b.input("x", FLOAT32, "N", sae.dIn());
    String bias = sae.architecture() == Architecture.GATED ? g.bGate() : g.bEnc();
    g.b.op("hidden_pre", "Gemm", x, g.wEnc(), bias);
    g.b.output("hidden_pre", FLOAT32, "N", sae.dSae());
    return g.plan();
  }

  /** Per-row values that undo the input normalisation: {@code out * scale + shift}. */
  private record NormState(String scaleColumn, String shiftColumn) {}

  /**
   * Encoder results: the TopK indices (always valid, for gathering), the output {@code indices} and
   * {@code values}, and the normalisation state.
   */
  private record Encoded(String topkIndices, String values, @Nullable NormState norm) {}

  /** One graph under construction; weights are registered on first use. */
  private static final class Graph {
    final GraphBuilder b;
    final ExportableSae sae;
    private final List<WeightInitializer> weights = new ArrayList<>();

    Graph(ExportableSae sae, @Nullable GraphKind kind) {
      this.sae = sae;
      this.b = new GraphBuilder("sae_stream_" + (kind == null ? "bare_encoder" : kind.cliName()));
    }

    GraphPlan plan() {
      return new GraphPlan(b.build(), List.copyOf(weights), specs(b.inputs()), specs(b.outputs()));
    }

    Encoded encode(String x, int slots) {
      String normalized = x;
      NormState norm = null;
      switch (sae.normalization()) {
        case NONE -> {}
        case EXPECTED_AVERAGE_ONLY_IN ->
            throw new IllegalStateException("ExportableSae refuses an unfolded activation scale");
        case CONSTANT_NORM_RESCALE -> {
          String sqrtDIn = b.scalar("sqrt_d_in", FLOAT32, Math.sqrt(sae.dIn()));
          String sumSq = b.op("x_sum_sq", "ReduceSumSquare", List.of(axes1(), keep(true)), x);
          String len = b.op("x_norm", "Sqrt", sumSq);
          String safeLen =
              b.op("x_norm_safe", "Max", len, b.scalar("min_norm", FLOAT32, MIN_NORM_FOR_RESCALE));
          String c = b.op("rescale_coefficient", "Div", sqrtDIn, safeLen);
          normalized = b.op("x_rescaled", "Mul", x, c);
          String scale = b.op("norm_scale_column", "Div", safeLen, sqrtDIn);
          String shift =
              b.op(
                  "norm_shift_column",
                  "ConstantOfShape",
                  List.of(floatZeroTensorAttr()),
                  b.op("norm_shape", "Shape", scale));
          norm = new NormState(scale, shift);
        }
        case LAYER_NORM -> {
          String mean = b.op("x_mean", "ReduceMean", List.of(axes1(), keep(true)), x);
          String centered = b.op("x_centered", "Sub", x, mean);
          String sumSq =
              b.op("x_centered_sum_sq", "ReduceSumSquare", List.of(axes1(), keep(true)), centered);
          String var =
              b.op("x_var", "Div", sumSq, b.scalar("d_in_minus_1", FLOAT32, sae.dIn() - 1));
          String sd = b.op("x_std", "Sqrt", var);
          String denom =
              b.op("x_std_eps", "Add", sd, b.scalar("layer_norm_eps", FLOAT32, LAYER_NORM_EPS));
          normalized = b.op("x_layer_normed", "Div", centered, denom);
          norm = new NormState(sd, mean);
        }
      }
      String saeIn =
          sae.config().applyBDecToInput() ? b.op("sae_in", "Sub", normalized, bDec()) : normalized;
      String topkIndices;
      String values;
      String used;
      if (sae.architecture() == Architecture.TOPK) {
        String h = b.op("hidden_pre", "Gemm", saeIn, wEnc(), bEnc());
        if (sae.rescalesByDecoderNorm()) {
          h = b.op("hidden_pre_rescaled", "Mul", h, decoderNorm());
        }
        List<String> top = topK(h, slots, "topk_values", "topk_indices");
        topkIndices = top.get(1);
        // ReLU after the cut, as sae-lens: only the K selected values, never the dense h.
        values = b.op("values", "Relu", top.get(0));
        used = b.op("slot_used", "Greater", values, zeroF());
        String kept = countTrue(used, "kept");
        b.op("l0", "Identity", kept);
        b.op(
            "dropped",
            "ConstantOfShape",
            List.of(int64ZeroTensorAttr()),
            b.op("l0_shape", "Shape", kept));
      } else {
        String acts = denseActivations(saeIn);
        List<String> top = topK(acts, slots, "values", "topk_indices");
        topkIndices = top.get(1);
        values = top.get(0);
        used = b.op("slot_used", "Greater", values, zeroF());
        String kept = countTrue(used, "kept");
        String l0 = l0OfDense(acts, kept, slots);
        b.op("dropped", "Sub", l0, kept);
      }
      b.op("indices", "Where", used, topkIndices, b.int64Scalar("unused_index", -1));
      return new Encoded(topkIndices, values, norm);
    }

    /**
     * TopK along the latent axis (largest first, ties to the lower index), guarded for an empty
     * batch: ONNX Runtime's TopK divides by the row count and kills the process (SIGFPE) when N is
     * 0, so an empty batch takes a branch that returns empty {@code [0, K]} tensors instead.
     */
    private List<String> topK(String input, int slots, String valuesName, String indicesName) {
      String rows =
          gatherRows(
              valuesName + "_rows",
              b.op(valuesName + "_shape", "Shape", input),
              b.int64Scalar(valuesName + "_row_axis", 0));
      String empty =
          b.op(
              valuesName + "_empty_batch",
              "Equal",
              rows,
              b.int64Scalar(valuesName + "_zero_rows", 0));
      String emptyShape = b.int64s(valuesName + "_empty_shape", 0, slots);
      GraphBuilder none = b.subgraph(valuesName + "_of_empty_batch");
      none.op(valuesName + "_none", "ConstantOfShape", List.of(floatZeroTensorAttr()), emptyShape);
      none.op(indicesName + "_none", "ConstantOfShape", List.of(int64ZeroTensorAttr()), emptyShape);
      none.output(valuesName + "_none", FLOAT32, 0, slots);
      none.output(indicesName + "_none", INT64, 0, slots);
      GraphBuilder some = b.subgraph(valuesName + "_of_batch");
      some.ops(
          List.of(valuesName + "_some", indicesName + "_some"),
          "TopK",
          List.of(intAttr("axis", 1), intAttr("largest", 1), intAttr("sorted", 1)),
          input,
          b.int64s(valuesName + "_k", slots));
      some.output(valuesName + "_some", FLOAT32, "N", slots);
      some.output(indicesName + "_some", INT64, "N", slots);
      return b.ops(
          List.of(valuesName, indicesName),
          "If",
          List.of(graphAttr("then_branch", none.build()), graphAttr("else_branch", some.build())),
          empty);
    }

    /** The dense, non-negative feature activations of a standard, jumprelu or gated SAE. */
    private String denseActivations(String saeIn) {
      return switch (sae.architecture()) {
        case STANDARD ->
            b.op("feature_acts", "Relu", b.op("hidden_pre", "Gemm", saeIn, wEnc(), bEnc()));
        case JUMPRELU -> {
          String h = b.op("hidden_pre", "Gemm", saeIn, wEnc(), bEnc());
          String fires = b.op("above_threshold", "Greater", h, thresholdPositive());
          yield b.op("feature_acts", "Where", fires, h, zeroF());
        }
        case GATED -> {
          // r_mag scales the columns of W_enc: sae_in·(W_enc⊙exp(r_mag)) equals
          // (sae_in·W_enc)⊙exp(r_mag), so one GEMM serves both the gate and the magnitude.
          String proj = b.op("encoder_projection", "MatMul", saeIn, wEnc());
          String gatePre = b.op("gate_pre", "Add", proj, bGate());
          String magPre =
              b.op(
                  "magnitude_pre",
                  "Add",
                  b.op("magnitude_projection", "Mul", proj, rMagExp()),
                  bMag());
          String gate = b.op("gate_open", "Greater", gatePre, zeroF());
          yield b.op("feature_acts", "Where", gate, b.op("magnitude", "Relu", magPre), zeroF());
        }
        case TOPK, BATCHTOPK ->
            throw new IllegalStateException("no dense activations for " + sae.architecture());
      };
    }

    /** {@code out = values·W_dec[indices] + b_dec}, undoing normalisation when present. */
    String decode(String gatherIndices, String values, @Nullable NormState norm, String outName) {
      String v = values;
      if (sae.rescalesByDecoderNorm()) {
        String n = gatherRows("selected_decoder_norms", decoderNorm(), gatherIndices);
        v = b.op("decoder_values", "Div", v, n);
      }
      String axis = axis1();
      String row = b.op("decoder_values_row", "Unsqueeze", v, axis);
      String rows = gatherRows("selected_decoder_rows", wDec(), gatherIndices);
      String rec =
          b.op("reconstruction", "Squeeze", b.op("reconstruction_row", "MatMul", row, rows), axis);
      if (norm == null) {
        return b.op(outName, "Add", rec, bDec());
      }
      String withBias = b.op("reconstruction_normalized", "Add", rec, bDec());
      String scaled = b.op("reconstruction_scaled", "Mul", withBias, norm.scaleColumn());
      return b.op(outName, "Add", scaled, norm.shiftColumn());
    }

    /** Per-token metrics of {@code out} against the original {@code x}. */
    void metrics(String x, String out) {
      String residual = b.op("residual", "Sub", out, x);
      String sse = b.op("sse", "ReduceSumSquare", List.of(axes1(), keep(false)), residual);
      String xSq = b.op("x_sq", "ReduceSumSquare", List.of(axes1(), keep(false)), x);
      // sse/‖x‖² except 0 when sse == 0 (also for x = 0); x = 0 with sse > 0 gives +Infinity.
      String ratio = b.op("sse_over_x_sq", "Div", sse, xSq);
      String exact = b.op("sse_is_zero", "Equal", sse, zeroF());
      b.op("relative_error", "Where", exact, zeroF(), ratio);
      String dot =
          b.op(
              "x_dot_out",
              "ReduceSum",
              List.of(keep(false)),
              b.op("x_times_out", "Mul", x, out),
              axis1());
      String outSq = b.op("out_sq", "ReduceSumSquare", List.of(axes1(), keep(false)), out);
      String eps = b.scalar("cosine_eps", FLOAT32, COSINE_EPS);
      String xLen = b.op("x_len", "Max", b.op("x_len_raw", "Sqrt", xSq), eps);
      String outLen = b.op("out_len", "Max", b.op("out_len_raw", "Sqrt", outSq), eps);
      b.op("cosine", "Div", dot, b.op("len_product", "Mul", xLen, outLen));
    }

    /**
     * The true L0 of dense activations. While no row fills all K slots, the used-slot count is the
     * L0, so the dense count (two more passes over {@code [N, d_sae]}) runs only for batches where
     * some row may have fired more than K latents.
     */
    private String l0OfDense(String acts, String kept, int slots) {
      String maxKept = b.op("max_kept", "ReduceMax", List.of(keep(false)), kept);
      String saturated =
          b.op("some_row_saturated", "Equal", maxKept, b.int64Scalar("slot_count", slots));
      GraphBuilder dense = b.subgraph("dense_l0");
      String fired = dense.op("fired", "Greater", acts, zeroF());
      String firedFloat =
          dense.op(
              "fired_float",
              "Cast",
              List.of(intAttr("to", TensorProto.DataType.FLOAT_VALUE)),
              fired);
      // Exact: float32 sums of ones are exact below 2^24 latents.
      String count =
          dense.op("fired_count", "ReduceSum", List.of(keep(false)), firedFloat, axis1());
      dense.op("l0_dense", "Cast", List.of(intAttr("to", TensorProto.DataType.INT64_VALUE)), count);
      dense.output("l0_dense", INT64, "N");
      GraphBuilder sparse = b.subgraph("sparse_l0");
      sparse.op("l0_sparse", "Identity", kept);
      sparse.output("l0_sparse", INT64, "N");
      return b.op(
          "l0",
          "If",
          List.of(
              graphAttr("then_branch", dense.build()), graphAttr("else_branch", sparse.build())),
          saturated);
    }

    /** Per-row count of the true entries of the boolean {@code [N, K]} value {@code mask}. */
    private String countTrue(String mask, String name) {
      String asInt =
          b.op(
              name + "_int64",
              "Cast",
              List.of(intAttr("to", TensorProto.DataType.INT64_VALUE)),
              mask);
      return b.op(name, "ReduceSum", List.of(keep(false)), asInt, axis1());
    }

    /** Gather along axis 0: the rows of {@code data} at {@code indices}. */
    String gatherRows(String out, String data, String indices) {
      return b.op(out, "Gather", List.of(intAttr("axis", 0)), data, indices);
    }

    /** The int64 constant {@code [1]}: the token axis for Reduce/Squeeze/Unsqueeze inputs. */
    String axis1() {
      return b.once("axis_1", () -> b.int64s("axis_1", 1));
    }

    String zeroF() {
      return b.once("zero_float32", () -> b.scalar("zero_float32", FLOAT32, 0));
    }

    String wEnc() {
      return b.once(
          "W_enc", () -> weight("W_enc", WeightData.of(sae.wEnc()), sae.dIn(), sae.dSae()));
    }

    String bEnc() {
      return b.once("b_enc", () -> weight("b_enc", WeightData.of(sae.bEnc()), sae.dSae()));
    }

    String wDec() {
      return b.once(
          "W_dec", () -> weight("W_dec", WeightData.of(sae.wDec()), sae.dSae(), sae.dIn()));
    }

    String bDec() {
      return b.once("b_dec", () -> weight("b_dec", WeightData.of(sae.bDec()), sae.dIn()));
    }

    String decoderNorm() {
      return b.once(
          "W_dec_norm", () -> weight("W_dec_norm", WeightData.of(sae.decoderNorms()), sae.dSae()));
    }

    String thresholdPositive() {
      return b.once(
          "threshold_positive",
          () -> weight("threshold_positive", WeightData.of(sae.thresholdPositive()), sae.dSae()));
    }

    String bGate() {
      return b.once("b_gate", () -> weight("b_gate", WeightData.of(sae.bGate()), sae.dSae()));
    }

    String bMag() {
      return b.once("b_mag", () -> weight("b_mag", WeightData.of(sae.bMag()), sae.dSae()));
    }

    String rMagExp() {
      return b.once(
          "r_mag_exp", () -> weight("r_mag_exp", WeightData.of(sae.rMagExp()), sae.dSae()));
    }

    /** Registers a streamed float32 weight of the main graph. */
    private String weight(String name, WeightData data, long... dims) {
      List<Long> shape = new ArrayList<>();
      for (long d : dims) {
        shape.add(d);
      }
      WeightInitializer w = new WeightInitializer(name, shape, data);
      b.reserve(name);
      weights.add(w);
      return name;
    }

    private static List<TensorSpec> specs(List<GraphBuilder.Declaration> declared) {
      List<TensorSpec> specs = new ArrayList<>();
      for (GraphBuilder.Declaration d : declared) {
        specs.add(new TensorSpec(d.name(), d.type().specName(), d.dims()));
      }
      return List.copyOf(specs);
    }

    private static AttributeProto axes1() {
      return intsAttr("axes", 1);
    }

    private static AttributeProto keep(boolean keep) {
      return intAttr("keepdims", keep ? 1 : 0);
    }

    private static AttributeProto floatZeroTensorAttr() {
      return scalarTensorAttr("value", FLOAT32, 0);
    }

    private static AttributeProto int64ZeroTensorAttr() {
      return scalarTensorAttr("value", INT64, 0);
    }
  }
}
