package io.saestream.sae.training;

import static io.saestream.sae.onnx.graph.ElementType.BOOL;
import static io.saestream.sae.onnx.graph.ElementType.FLOAT32;
import static io.saestream.sae.onnx.graph.ElementType.FLOAT64;
import static io.saestream.sae.onnx.graph.ElementType.INT64;
import static io.saestream.sae.onnx.graph.GraphBuilder.intAttr;
import static io.saestream.sae.onnx.graph.GraphBuilder.intsAttr;
import static io.saestream.sae.onnx.graph.GraphBuilder.scalarTensorAttr;
import static io.saestream.sae.onnx.graph.GraphBuilder.stringAttr;
import static io.saestream.sae.training.TrainingStepGraph.AUX_LOSS;
import static io.saestream.sae.training.TrainingStepGraph.BATCH;
import static io.saestream.sae.training.TrainingStepGraph.DEAD_MASK;
import static io.saestream.sae.training.TrainingStepGraph.FEATURE_ACTS;
import static io.saestream.sae.training.TrainingStepGraph.FIRED_COUNTS;
import static io.saestream.sae.training.TrainingStepGraph.GRAD_NORM;
import static io.saestream.sae.training.TrainingStepGraph.HIDDEN_PRE;
import static io.saestream.sae.training.TrainingStepGraph.L0;
import static io.saestream.sae.training.TrainingStepGraph.LEARNING_RATE;
import static io.saestream.sae.training.TrainingStepGraph.LOSS;
import static io.saestream.sae.training.TrainingStepGraph.MIN_POSITIVE_ACT;
import static io.saestream.sae.training.TrainingStepGraph.MSE_LOSS;
import static io.saestream.sae.training.TrainingStepGraph.SAE_OUT;
import static io.saestream.sae.training.TrainingStepGraph.STEP;
import static io.saestream.sae.training.TrainingStepGraph.X;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import io.saestream.sae.onnx.graph.ElementType;
import io.saestream.sae.onnx.graph.GraphBuilder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes the nodes of one training step (see {@link TrainingStepGraph} for the contract and the
 * math). Single-use: one instance per graph, not thread-safe.
 *
 * <p>Backward, by hand. With {@code g = ∂L/∂x̂ = 2(x̂ − x)/B} and, per selected entry (token b,
 * latent j, activation a, decoder coefficient {@code c = a/n_j}): {@code ∂L/∂W_dec[j] += c·g_b};
 * {@code ∂L/∂c = g_b·W_dec[j]}; {@code ∂L/∂h = ∂L/∂c / n_j} where {@code h > 0} (ReLU); {@code
 * ∂L/∂pre = ∂L/∂h · n_j}; {@code ∂L/∂n_j += ∂L/∂h · pre − ∂L/∂c · a / n_j²} (encode and decode uses
 * of n); then {@code ∂L/∂W_dec[j] += ∂L/∂n_j · W_dec[j]/n_j}, {@code ∂L/∂W_enc = x'ᵀ·∂L/∂pre},
 * {@code ∂L/∂b_enc = Σ_b ∂L/∂pre} and {@code ∂L/∂b_dec = Σ_b g + Σ_b g_aux − W_enc·∂L/∂b_enc}
 * (decode bias, then the input's {@code −b_dec}). The aux-k term contributes the same way with its
 * own {@code g_aux = 2·coeff·scale·(recons − residual)/B} and without the ReLU gate.
 */
final class StepAssembly {

  private static final String ADD = "add";

  /** torch's clip_grad_norm_ adds this to the total norm before dividing. */
  static final double CLIP_EPSILON = 1e-6;

  private final TrainingStepSpec spec;
  private final StepVariant variant;
  private final Precision precision;
  private final Formulation formulation;
  private final ElementType real;
  private final long dIn;
  private final long dSae;
  private final GraphBuilder b = new GraphBuilder("sae_stream_training_step");

  private final String x;
  private final String wEnc;
  private final String bEnc;
  private final String wDec;
  private final String bDec;
  private final String deadMask;
  private final String batchShape;
  private final String batchScalar;
  private final String batchReal;
  private final String twoOverBatch;
  private final String norm;
  private final String invNorm;
  private final String saeIn;
  private final String pre;
  private final String hidden;
  private final Selection sel;

  /**
   * The kept entries as flat lists of length T: token row, latent, {@code row·d_sae + latent}, the
   * (post-ReLU) activation, whether it is positive (bool) and that as a real 0/1.
   */
  private record Selection(
      String token, String latent, String flat, String act, String fired, String firedReal) {}

  /** The value names of the four gradients. */
  private record Gradients(String wEnc, String bEnc, String wDec, String bDec) {
    String get(SaeParameter p) {
      return switch (p) {
        case W_ENC -> wEnc;
        case B_ENC -> bEnc;
        case W_DEC -> wDec;
        case B_DEC -> bDec;
      };
    }
  }

  /** The aux-k term's loss and the values its backward needs. */
  private record Aux(String loss, String gradRecons) {}

  private StepAssembly(
      TrainingStepSpec spec, StepVariant variant, Precision precision, Formulation formulation) {
    this.spec = spec;
    this.variant = variant;
    this.precision = precision;
    this.formulation = formulation;
    this.real = precision == Precision.FLOAT64 ? FLOAT64 : FLOAT32;
    this.dIn = spec.dIn();
    this.dSae = spec.dSae();

    x = b.input(X, real, BATCH, dIn);
    wEnc = b.input(SaeParameter.W_ENC.tensorName(), real, dIn, dSae);
    bEnc = b.input(SaeParameter.B_ENC.tensorName(), real, dSae);
    wDec = b.input(SaeParameter.W_DEC.tensorName(), real, dSae, dIn);
    bDec = b.input(SaeParameter.B_DEC.tensorName(), real, dIn);
    deadMask = b.input(DEAD_MASK, BOOL, dSae);

    batchShape = b.op("batch_size", "Shape", List.of(intAttr("start", 0), intAttr("end", 1)), x);
    batchScalar = b.op("batch_size_scalar", "Squeeze", batchShape, axes(0));
    batchReal = cast("batch_size_real", batchScalar, real);
    twoOverBatch = b.op("two_over_batch", "Div", realConst("two", 2), batchReal);

    norm =
        b.op(
            "decoder_norm",
            "Sqrt",
            b.op("decoder_norm_sq", "ReduceSumSquare", keep(false), wDec, axes(1)));
    invNorm = b.op("decoder_norm_inv", "Reciprocal", norm);
    saeIn = b.op("sae_in", "Sub", x, bDec);
    pre = b.op("pre_activation", "Gemm", saeIn, wEnc, bEnc);
    hidden = b.op(HIDDEN_PRE, "Mul", pre, norm);
    sel = spec.rule() == SparsityRule.TOPK ? selectTopK() : selectBatchTopK();
  }

  static TrainingStepModel assemble(
      TrainingStepSpec spec, StepVariant variant, Precision precision, Formulation formulation) {
    return new StepAssembly(spec, variant, precision, formulation).build();
  }

  private TrainingStepModel build() {
    Gradients grads = formulation == Formulation.DENSE ? denseStep() : sparseStep();
    statistics();
    String gradNorm = gradientNorm(grads);

    if (variant == StepVariant.ADAM) {
      adam(grads, gradNorm);
    }
    b.output(LOSS, real);
    b.output(MSE_LOSS, real);
    b.output(AUX_LOSS, real);
    b.output(GRAD_NORM, real);
    if (variant == StepVariant.ADAM) {
      for (SaeParameter p : SaeParameter.values()) {
        Object[] dims = dims(p);
        b.output(p.next(), real, dims);
        b.output(p.nextFirstMoment(), real, dims);
        b.output(p.nextSecondMoment(), real, dims);
      }
    } else {
      for (SaeParameter p : SaeParameter.values()) {
        b.output(p.gradient(), real, dims(p));
      }
      b.output(SAE_OUT, real, BATCH, dIn);
    }
    b.output(FIRED_COUNTS, INT64, dSae);
    b.output(L0, real);
    b.output(MIN_POSITIVE_ACT, real);
    if (variant == StepVariant.DEBUG) {
      denseFromSelection(FEATURE_ACTS, sel.act());
      b.output(FEATURE_ACTS, real, BATCH, dSae);
      b.output(HIDDEN_PRE, real, BATCH, dSae);
    }
    return new TrainingStepModel(
        spec,
        variant,
        precision,
        formulation,
        model().toByteArray(),
        names(b.inputs()),
        names(b.outputs()));
  }

  private Object[] dims(SaeParameter p) {
    long[] shape = p.shape(spec);
    Object[] dims = new Object[shape.length];
    for (int i = 0; i < shape.length; i++) {
      dims[i] = shape[i];
    }
    return dims;
  }

  // ---------------------------------------------------------------- selection

  private Selection selectTopK() {
    List<String> top =
        largest("topk_values", "topk_indices", 1, hidden, int64s("k", (long) spec.k()));
    String acts = b.op("topk_acts", "Relu", top.get(0));
    String latent = reshape("sel_latent", top.get(1), -1);
    String act = reshape("sel_act", acts, -1);
    String tokens =
        b.op(
            "token_range", "Range", int64Scalar("zero_i", 0), batchScalar, int64Scalar("one_i", 1));
    String tokenGrid =
        b.op(
            "sel_token_grid",
            "Expand",
            b.op("token_column", "Unsqueeze", tokens, axes(1)),
            b.op("topk_shape", "Shape", top.get(1)));
    String token = reshape("sel_token", tokenGrid, -1);
    String flat =
        b.op(
            "sel_flat",
            "Add",
            b.op("sel_token_offset", "Mul", token, int64Scalar("d_sae_i", dSae)),
            latent);
    return withFired(token, latent, flat, act);
  }

  /**
   * sae-lens keeps the ⌊k·B⌋ largest ReLU(h) of the flattened batch. One TopK over all {@code
   * B·d_sae} values runs on a single thread, so this selects in two rounds over a much smaller
   * candidate set U: each token offers its {@link #candidatesPerToken} largest h (a per-row TopK,
   * parallel over rows); a first cut over those finds the tokens whose whole quota was kept
   * ("saturated"), which offer all their latents instead. The ⌊k·B⌋ largest of U are the batch's: a
   * kept entry missing from U would sit below a full quota of its token's candidates, all of them
   * above the cut, so its token would be saturated. Cost: the per-row TopK, two TopKs over {@code
   * B·cap + saturated·d_sae} values; the result is in flat {@code token·d_sae + latent} form.
   */
  private Selection selectBatchTopK() {
    // sae-lens: int(k * N), in double precision.
    String kept =
        b.op(
            "batch_k_real",
            "Floor",
            b.op(
                "batch_k_product",
                "Mul",
                cast("batch_size_f64", batchScalar, FLOAT64),
                b.scalar("k_f64", FLOAT64, spec.k())));
    String keptCount = b.op("batch_k", "Unsqueeze", cast("batch_k_scalar", kept, INT64), axes(0));
    long cap = candidatesPerToken(spec);
    String capI = int64Scalar("candidates_per_token_i", cap);
    String dSaeI = int64Scalar("d_sae_i", dSae);

    List<String> perToken =
        largest("cand_hidden", "cand_latent", 1, hidden, int64s("candidates_per_token", cap));
    String candActs = b.op("cand_acts", "Relu", perToken.get(0));
    String firstCut =
        largest("cut1_act", "cut1_index", 0, reshape("cand_acts_flat", candActs, -1), keptCount)
            .get(1);
    String keptPerToken =
        b.op(
            "cut1_kept_per_token",
            "ScatterElements",
            List.of(intAttr("axis", 0), stringAttr("reduction", ADD)),
            filled("zeros_tokens_i", INT64, 0, batchShape),
            b.op("cut1_token", "Div", firstCut, capI),
            filled("ones_kept_i", INT64, 1, b.op("cut1_shape", "Shape", firstCut)));
    String saturated = b.op("saturated", "Equal", keptPerToken, capI);
    // −1 is below every ReLU value: a saturated token's candidates give way to its full row.
    String unsaturatedCandidates =
        reshape(
            "cand_offered",
            b.op(
                "cand_offered_rows",
                "Where",
                column("saturated_column", saturated),
                realConst("minus_one", -1),
                candActs),
            -1);
    String saturatedTokens =
        reshape("saturated_tokens", b.op("saturated_nz", "NonZero", saturated), -1);
    String fullRows =
        reshape(
            "saturated_acts",
            b.op("saturated_relu", "Relu", gather("saturated_hidden", hidden, saturatedTokens, 0)),
            -1);
    List<String> top =
        largest(
            "sel_act",
            "cut2_index",
            0,
            b.op("offered", "Concat", List.of(intAttr("axis", 0)), unsaturatedCandidates, fullRows),
            keptCount);
    // Map U's index back: below B·cap a candidate (token = i / cap, its latent), else an entry of
    // the full rows (token = saturated[r / d_sae], latent = r mod d_sae) with r = i − B·cap. Both
    // are computed on clamped indices and the right one picked.
    String index = top.get(1);
    String candCount = b.op("cand_count", "Mul", batchScalar, capI);
    String isCandidate = b.op("sel_is_candidate", "Less", index, candCount);
    String candIndex =
        b.op(
            "sel_cand_index",
            "Min",
            index,
            b.op("cand_last", "Sub", candCount, int64Scalar("one_i", 1)));
    String rowIndex =
        b.op(
            "sel_row_index",
            "Max",
            b.op("sel_row_offset", "Sub", index, candCount),
            int64Scalar("zero_i", 0));
    String token =
        b.op(
            "sel_token",
            "Where",
            isCandidate,
            b.op("sel_cand_token", "Div", candIndex, capI),
            gather(
                "sel_row_token",
                b.op(
                    "saturated_tokens_padded",
                    "Concat",
                    List.of(intAttr("axis", 0)),
                    saturatedTokens,
                    int64s("zero_1", 0)),
                b.op("sel_row_number", "Div", rowIndex, dSaeI),
                0));
    String latent =
        b.op(
            "sel_latent",
            "Where",
            isCandidate,
            gather(
                "sel_cand_latent", reshape("cand_latent_flat", perToken.get(1), -1), candIndex, 0),
            b.op("sel_row_latent", "Mod", rowIndex, dSaeI));
    String flat = b.op("sel_flat", "Add", b.op("sel_token_offset", "Mul", token, dSaeI), latent);
    return withFired(token, latent, flat, top.get(0));
  }

  /** BatchTopK's per-token candidates: 4·⌈k⌉ (at most d_sae), four times the mean L0. */
  static long candidatesPerToken(TrainingStepSpec spec) {
    return Math.min(spec.dSae(), 4 * (long) Math.ceil(spec.k()));
  }

  private Selection withFired(String token, String latent, String flat, String act) {
    String fired = b.op("sel_fired", "Greater", act, zero());
    return new Selection(token, latent, flat, act, fired, cast("sel_fired_real", fired, real));
  }

  /** {@code [B, d_sae]} with {@code values [T]} at the selected entries and 0 elsewhere. */
  private String denseFromSelection(String out, String values) {
    String zeros =
        b.once(
            "zeros_batch_latents_flat",
            () ->
                filled(
                    "zeros_batch_latents_flat",
                    real,
                    0,
                    b.op("batch_latents", "Mul", batchShape, int64s("d_sae_1", dSae))));
    String scattered =
        b.op(
            out + "_flat",
            "ScatterElements",
            List.of(intAttr("axis", 0)),
            zeros,
            sel.flat(),
            values);
    return b.op(out, "Reshape", scattered, int64s("shape_rows_latents", -1, dSae));
  }

  // ---------------------------------------------------------------- sparse formulation

  /**
   * Per entry, the dot product of its row of {@code rows [T, d_in]} with its token's row of {@code
   * perToken [B, d_in]}: {@code [T]}. TopK entries come k per token in token order, so this is a
   * batched {@code [k, d_in]·[d_in, 1]} product and {@code perToken} is never gathered.
   */
  private String dotTokenRows(String out, String rows, String perToken) {
    if (spec.rule() == SparsityRule.TOPK) {
      String product =
          b.op(
              out + "_grouped",
              "MatMul",
              reshape(out + "_rows", rows, -1, (long) spec.k(), dIn),
              b.op(out + "_token", "Unsqueeze", perToken, axes(2)));
      return reshape(out, product, -1);
    }
    return b.op(
        out,
        "ReduceSum",
        keep(false),
        b.op(out + "_terms", "Mul", rows, tokenRows(perToken)),
        axes(1));
  }

  /**
   * The rows of {@code perToken [B, d_in]} each scaled by a per-entry scalar: {@code [T, d_in]}.
   */
  private String scaledTokenRows(String out, String perToken, String perEntryScalar) {
    if (spec.rule() == SparsityRule.TOPK) {
      String grouped = reshape(out + "_scale", perEntryScalar, -1, (long) spec.k(), 1);
      String product =
          b.op(
              out + "_grouped",
              "Mul",
              b.op(out + "_token", "Unsqueeze", perToken, axes(1)),
              grouped);
      return reshape(out, product, -1, dIn);
    }
    return b.op(out, "Mul", tokenRows(perToken), column(out + "_scale", perEntryScalar));
  }

  /**
   * {@code Σ coef·rows} over each token's entries: {@code [B, d_in]}. For TopK a batched {@code [1,
   * k]·[k, d_in]} product; for BatchTopK (a varying count per token) a scatter-add.
   */
  private String decodeRows(String out, String rows, String coef) {
    if (spec.rule() == SparsityRule.TOPK) {
      String product =
          b.op(
              out + "_grouped",
              "MatMul",
              reshape(out + "_coef", coef, -1, 1, (long) spec.k()),
              reshape(out + "_rows", rows, -1, (long) spec.k(), dIn));
      return reshape(out, product, -1, dIn);
    }
    String zeros = filled(out + "_zeros", real, 0, b.op(out + "_shape", "Shape", x));
    String contrib = b.op(out + "_terms", "Mul", rows, column(out + "_coef_column", coef));
    return b.op(
        out, "ScatterND", reduction(), zeros, column("sel_token_column", sel.token()), contrib);
  }

  private String tokenRows(String perToken) {
    return b.once(
        "rows_of_" + perToken, () -> gather(perToken + "_per_entry", perToken, sel.token(), 0));
  }

  private Gradients sparseStep() {
    String latentColumn = column("sel_latent_column", sel.latent());
    String selNorm = gather("sel_norm", norm, sel.latent(), 0);
    String selInvNorm = gather("sel_norm_inv", invNorm, sel.latent(), 0);
    String coef = b.op("sel_coef", "Mul", sel.act(), selInvNorm);
    String decRows = gather("sel_dec_rows", wDec, sel.latent(), 0);
    String recon = decodeRows("reconstruction", decRows, coef);
    String saeOut = b.op(SAE_OUT, "Add", recon, bDec);
    String gradOut = reconstruction(saeOut);

    // Aux-k over the dead latents only, compacted to [B, nd + 1] columns. Column nd is a sentinel
    // (−∞ pre-activation, never a real pick) so that every shape stays non-empty when nothing is
    // dead; it maps to latent 0 and all its contributions are exactly zero.
    String deadLatents = reshape("dead_latents", b.op("dead_latents_nz", "NonZero", deadMask), -1);
    String deadCount = b.op("dead_count", "Shape", deadLatents);
    String deadCountScalar = b.op("dead_count_scalar", "Squeeze", deadCount, axes(0));
    String deadPadded =
        b.op(
            "dead_latents_padded",
            "Concat",
            List.of(intAttr("axis", 0)),
            deadLatents,
            int64s("zero_1", 0));
    String deadColumn = column("dead_latents_column", deadPadded);
    String sentinel =
        b.op(
            "dead_is_sentinel",
            "Equal",
            b.op(
                "dead_range",
                "Range",
                int64Scalar("zero_i", 0),
                b.op("dead_count_plus_one", "Add", deadCountScalar, int64Scalar("one_i", 1)),
                int64Scalar("one_i", 1)),
            deadCountScalar);
    // One strided gather of the dead columns; h = pre·n recomputed there (bitwise the same).
    String deadPre = gather("dead_pre", pre, deadPadded, 1);
    String deadNorm = gather("dead_norm", norm, deadPadded, 0);
    String deadHidden =
        b.op(
            "dead_hidden_pre",
            "Where",
            sentinel,
            realConst("neg_inf", Double.NEGATIVE_INFINITY),
            b.op("dead_hidden_pre_raw", "Mul", deadPre, deadNorm));
    List<String> auxTop = auxTopK(deadHidden, deadCount);
    String auxValid = b.op("aux_valid", "Less", auxTop.get(1), deadCountScalar);
    String auxAct = b.op("aux_sel_act", "Where", auxValid, auxTop.get(0), zero());
    String zerosDead =
        filled("zeros_dead", real, 0, b.op("dead_hidden_shape", "Shape", deadHidden));
    String auxActs = scatterColumns("aux_acts", zerosDead, auxTop.get(1), auxAct);
    String auxSelected =
        scatterColumns(
            "aux_selected", zerosDead, auxTop.get(1), cast("aux_valid_real", auxValid, real));
    String deadInvNorm = gather("dead_norm_inv", invNorm, deadPadded, 0);
    String deadDecRows = gather("dead_dec_rows", wDec, deadPadded, 0);
    String auxCoef = b.op("aux_coef", "Mul", auxActs, deadInvNorm);
    String auxRecons =
        b.op("aux_recons", "Add", b.op("aux_recons_nobias", "MatMul", auxCoef, deadDecRows), bDec);
    Aux aux = auxLoss(auxRecons, deadCountScalar);

    b.op(LOSS, "Add", MSE_LOSS, aux.loss());

    // Backward, main term: only the T selected entries.
    String dCoef = dotTokenRows("sel_grad_coef", decRows, gradOut);
    String dHidden =
        b.op(
            "sel_grad_hidden",
            "Where",
            sel.fired(),
            b.op("sel_grad_act", "Mul", dCoef, selInvNorm),
            zero());
    String dPre = b.op("sel_grad_pre", "Mul", dHidden, selNorm);
    String selPre = gather("sel_pre", reshape("pre_activation_flat", pre, -1), sel.flat(), 0);
    String dNormSel =
        b.op(
            "sel_grad_norm",
            "Sub",
            b.op("sel_grad_norm_encode", "Mul", dHidden, selPre),
            b.op(
                "sel_grad_norm_decode",
                "Mul",
                b.op("sel_grad_coef_act", "Mul", dCoef, sel.act()),
                b.op("sel_norm_inv_sq", "Mul", selInvNorm, selInvNorm)));

    // Backward, aux term: [B, nd + 1] GEMMs.
    String auxDecGrad =
        b.op("aux_grad_dec_rows", "Gemm", List.of(intAttr("transA", 1)), auxCoef, aux.gradRecons());
    String auxDCoef =
        b.op("aux_grad_coef", "Gemm", List.of(intAttr("transB", 1)), aux.gradRecons(), deadDecRows);
    String auxDHidden =
        b.op(
            "aux_grad_hidden",
            "Mul",
            b.op("aux_grad_act", "Mul", auxDCoef, deadInvNorm),
            auxSelected);
    String auxDPre = b.op("aux_grad_pre", "Mul", auxDHidden, deadNorm);
    String auxDNorm =
        b.op(
            "aux_grad_norm",
            "Sub",
            b.op(
                "aux_grad_norm_encode",
                "ReduceSum",
                keep(false),
                b.op("aux_grad_norm_encode_terms", "Mul", auxDHidden, deadPre),
                axes(0)),
            b.op(
                "aux_grad_norm_decode",
                "Mul",
                b.op(
                    "aux_grad_inv_norm",
                    "ReduceSum",
                    keep(false),
                    b.op("aux_grad_inv_norm_terms", "Mul", auxDCoef, auxActs),
                    axes(0)),
                b.op("dead_norm_inv_sq", "Mul", deadInvNorm, deadInvNorm)));

    String zerosLatents = filled("zeros_latents", real, 0, int64s("d_sae_1", dSae));
    String dNorm =
        b.op(
            "grad_decoder_norm",
            "ScatterND",
            reduction(),
            b.op(
                "grad_decoder_norm_main",
                "ScatterND",
                reduction(),
                zerosLatents,
                latentColumn,
                dNormSel),
            deadColumn,
            auxDNorm);
    String viaNorm =
        b.op(
            "grad_dec_via_norm",
            "Mul",
            wDec,
            column("grad_norm_over_norm", b.op("grad_norm_over_norm_flat", "Mul", dNorm, invNorm)));
    String gradWDec =
        b.op(
            SaeParameter.W_DEC.gradient(),
            "ScatterND",
            reduction(),
            b.op(
                "grad_W_dec_main",
                "ScatterND",
                reduction(),
                viaNorm,
                latentColumn,
                scaledTokenRows("sel_grad_dec_rows", gradOut, coef)),
            deadColumn,
            auxDecGrad);

    String gradWEnc;
    String gradBEnc;
    if (formulation == Formulation.SPARSE) {
      String zerosEncT = filled("zeros_encoder_t", real, 0, int64s("shape_latents_in", dSae, dIn));
      String encT =
          b.op(
              "grad_W_enc_t",
              "ScatterND",
              reduction(),
              b.op(
                  "grad_W_enc_t_main",
                  "ScatterND",
                  reduction(),
                  zerosEncT,
                  latentColumn,
                  scaledTokenRows("sel_grad_enc_rows", saeIn, dPre)),
              deadColumn,
              b.op("aux_grad_enc_rows", "Gemm", List.of(intAttr("transA", 1)), auxDPre, saeIn));
      gradWEnc =
          b.op(SaeParameter.W_ENC.gradient(), "Transpose", List.of(intsAttr("perm", 1, 0)), encT);
      gradBEnc =
          b.op(
              SaeParameter.B_ENC.gradient(),
              "ScatterND",
              reduction(),
              b.op("grad_b_enc_main", "ScatterND", reduction(), zerosLatents, latentColumn, dPre),
              deadColumn,
              b.op("aux_grad_b_enc", "ReduceSum", keep(false), auxDPre, axes(0)));
    } else {
      String densePre = denseFromSelection("grad_pre_main", dPre);
      String deadGrid =
          b.op(
              "dead_latents_grid",
              "Expand",
              b.op("dead_latents_row", "Unsqueeze", deadPadded, axes(0)),
              b.op("aux_grad_pre_shape", "Shape", auxDPre));
      String gradPre =
          b.op(
              "grad_pre",
              "ScatterElements",
              List.of(intAttr("axis", 1), stringAttr("reduction", ADD)),
              densePre,
              deadGrid,
              auxDPre);
      gradWEnc =
          b.op(
              SaeParameter.W_ENC.gradient(), "Gemm", List.of(intAttr("transA", 1)), saeIn, gradPre);
      gradBEnc = b.op(SaeParameter.B_ENC.gradient(), "ReduceSum", keep(false), gradPre, axes(0));
    }
    String gradBDec = decoderBiasGradient(gradOut, aux.gradRecons(), gradBEnc);
    return grads(gradWEnc, gradBEnc, gradWDec, gradBDec);
  }

  // ---------------------------------------------------------------- dense formulation

  private Gradients denseStep() {
    String acts = denseFromSelection("dense_acts", sel.act());
    String selected = denseFromSelection("dense_selected", sel.firedReal());
    String coef = b.op("dense_coef", "Mul", acts, invNorm);
    String saeOut = b.op(SAE_OUT, "Add", b.op("reconstruction", "MatMul", coef, wDec), bDec);
    String gradOut = reconstruction(saeOut);

    String deadCount =
        b.op("dead_count", "ReduceSum", keep(true), cast("dead_mask_i", deadMask, INT64), axes(0));
    String deadCountScalar = b.op("dead_count_scalar", "Squeeze", deadCount, axes(0));
    String deadHidden =
        b.op(
            "dead_hidden_pre",
            "Where",
            deadMask,
            hidden,
            realConst("neg_inf", Double.NEGATIVE_INFINITY));
    List<String> auxTop = auxTopK(deadHidden, deadCount);
    String auxValid = gather("aux_valid", deadMask, auxTop.get(1), 0);
    String auxAct = b.op("aux_sel_act", "Where", auxValid, auxTop.get(0), zero());
    String zerosDense = filled("zeros_dense", real, 0, b.op("hidden_shape", "Shape", hidden));
    String auxActs = scatterColumns("aux_acts", zerosDense, auxTop.get(1), auxAct);
    String auxSelected =
        scatterColumns(
            "aux_selected", zerosDense, auxTop.get(1), cast("aux_valid_real", auxValid, real));
    String auxCoef = b.op("aux_coef", "Mul", auxActs, invNorm);
    String auxRecons =
        b.op("aux_recons", "Add", b.op("aux_recons_nobias", "MatMul", auxCoef, wDec), bDec);
    Aux aux = auxLoss(auxRecons, deadCountScalar);
    b.op(LOSS, "Add", MSE_LOSS, aux.loss());

    String dCoef = b.op("dense_grad_coef", "Gemm", List.of(intAttr("transB", 1)), gradOut, wDec);
    String dHidden =
        b.op("dense_grad_hidden", "Mul", b.op("dense_grad_act", "Mul", dCoef, invNorm), selected);
    String auxDCoef =
        b.op("aux_grad_coef", "Gemm", List.of(intAttr("transB", 1)), aux.gradRecons(), wDec);
    String auxDHidden =
        b.op("aux_grad_hidden", "Mul", b.op("aux_grad_act", "Mul", auxDCoef, invNorm), auxSelected);
    String dHiddenAll = b.op("grad_hidden", "Add", dHidden, auxDHidden);
    String gradPre = b.op("grad_pre", "Mul", dHiddenAll, norm);
    String dInvNorm =
        b.op(
            "grad_inv_norm",
            "Add",
            b.op(
                "grad_inv_norm_main",
                "ReduceSum",
                keep(false),
                b.op("grad_inv_norm_main_terms", "Mul", dCoef, acts),
                axes(0)),
            b.op(
                "grad_inv_norm_aux",
                "ReduceSum",
                keep(false),
                b.op("grad_inv_norm_aux_terms", "Mul", auxDCoef, auxActs),
                axes(0)));
    String dNorm =
        b.op(
            "grad_decoder_norm",
            "Sub",
            b.op(
                "grad_decoder_norm_encode",
                "ReduceSum",
                keep(false),
                b.op("grad_decoder_norm_encode_terms", "Mul", dHiddenAll, pre),
                axes(0)),
            b.op(
                "grad_decoder_norm_decode",
                "Mul",
                dInvNorm,
                b.op("decoder_norm_inv_sq", "Mul", invNorm, invNorm)));
    String gradWEnc =
        b.op(SaeParameter.W_ENC.gradient(), "Gemm", List.of(intAttr("transA", 1)), saeIn, gradPre);
    String gradBEnc =
        b.op(SaeParameter.B_ENC.gradient(), "ReduceSum", keep(false), gradPre, axes(0));
    String gradWDec =
        b.op(
            SaeParameter.W_DEC.gradient(),
            "Add",
            b.op(
                "grad_W_dec_direct",
                "Add",
                b.op("grad_W_dec_main", "Gemm", List.of(intAttr("transA", 1)), coef, gradOut),
                b.op(
                    "grad_W_dec_aux",
                    "Gemm",
                    List.of(intAttr("transA", 1)),
                    auxCoef,
                    aux.gradRecons())),
            b.op(
                "grad_dec_via_norm",
                "Mul",
                wDec,
                column(
                    "grad_norm_over_norm",
                    b.op("grad_norm_over_norm_flat", "Mul", dNorm, invNorm))));
    String gradBDec = decoderBiasGradient(gradOut, aux.gradRecons(), gradBEnc);
    return grads(gradWEnc, gradBEnc, gradWDec, gradBDec);
  }

  // ---------------------------------------------------------------- shared pieces

  /** Defines the MSE loss and returns {@code ∂mse/∂x̂ = 2(x̂ − x)/B}. */
  private String reconstruction(String saeOut) {
    String error = b.op("recon_error", "Sub", saeOut, x);
    b.op(
        MSE_LOSS,
        "ReduceMean",
        keep(false),
        b.op("recon_sse", "ReduceSumSquare", keep(false), error, axes(1)));
    return b.op("grad_sae_out", "Mul", error, twoOverBatch);
  }

  /** The top {@code min(d_in // 2, nd)} (at least 1) pre-activations per row of {@code cand}. */
  private List<String> auxTopK(String candidates, String deadCount) {
    String auxK =
        b.op(
            "aux_k",
            "Max",
            b.op("aux_k_capped", "Min", int64s("aux_k_budget", spec.auxK()), deadCount),
            int64s("one_1", 1));
    return largest("aux_topk_values", "aux_topk_indices", 1, candidates, auxK);
  }

  /** The aux loss {@code coeff·scale·mean_rows Σ_d (recons − residual)²} and its gradient. */
  private Aux auxLoss(String auxRecons, String deadCountScalar) {
    String residual = b.op("residual", "Sub", x, SAE_OUT);
    String error = b.op("aux_error", "Sub", auxRecons, residual);
    String raw =
        b.op(
            "aux_loss_unscaled",
            "ReduceMean",
            keep(false),
            b.op("aux_sse", "ReduceSumSquare", keep(false), error, axes(1)));
    // sae-lens: coeff * min(num_dead / (d_in // 2), 1), in double, then applied in float.
    String scale =
        b.op(
            "aux_scale_f64",
            "Min",
            b.op(
                "aux_dead_fraction",
                "Div",
                cast("dead_count_f64", deadCountScalar, FLOAT64),
                b.scalar("aux_k_budget_f64", FLOAT64, spec.auxK())),
            b.scalar("one_f64", FLOAT64, 1.0));
    String coeffScale =
        cast(
            "aux_coeff_scale",
            b.op(
                "aux_coeff_scale_f64",
                "Mul",
                b.scalar("aux_coefficient_f64", FLOAT64, spec.auxLossCoefficient()),
                scale),
            real);
    String loss = b.op(AUX_LOSS, "Mul", coeffScale, raw);
    String gradRecons =
        b.op(
            "grad_aux_recons",
            "Mul",
            error,
            b.op("aux_grad_factor", "Mul", coeffScale, twoOverBatch));
    return new Aux(loss, gradRecons);
  }

  /**
   * {@code Σ_b g + Σ_b g_aux − W_enc·∂L/∂b_enc}: decode biases, then the input's {@code −b_dec}.
   */
  private String decoderBiasGradient(String gradOut, String gradAux, String gradBEnc) {
    return b.op(
        SaeParameter.B_DEC.gradient(),
        "Sub",
        b.op(
            "grad_b_dec_decode",
            "Add",
            b.op("grad_b_dec_main", "ReduceSum", keep(false), gradOut, axes(0)),
            b.op("grad_b_dec_aux", "ReduceSum", keep(false), gradAux, axes(0))),
        b.op("grad_b_dec_input", "MatMul", wEnc, gradBEnc));
  }

  private void statistics() {
    String zerosCounts = filled("zeros_counts", INT64, 0, int64s("d_sae_1", dSae));
    b.op(
        FIRED_COUNTS,
        "ScatterElements",
        List.of(intAttr("axis", 0), stringAttr("reduction", ADD)),
        zerosCounts,
        sel.latent(),
        cast("sel_fired_i", sel.fired(), INT64));
    b.op(L0, "Div", b.op("fired_total", "ReduceSum", keep(false), sel.firedReal()), batchReal);
    b.op(
        MIN_POSITIVE_ACT,
        "ReduceMin",
        keep(false),
        b.op(
            "positive_acts",
            "Where",
            sel.fired(),
            sel.act(),
            realConst("pos_inf", Double.POSITIVE_INFINITY)));
  }

  /** torch's clip_grad_norm_ total: the L2 norm of the per-parameter L2 norms. */
  private String gradientNorm(Gradients grads) {
    List<String> norms = new ArrayList<>();
    for (SaeParameter p : SaeParameter.values()) {
      String n =
          b.op(
              p.gradient() + "_norm",
              "Sqrt",
              b.op(p.gradient() + "_sq", "ReduceSumSquare", keep(false), grads.get(p)));
      norms.add(b.op(p.gradient() + "_norm_1", "Unsqueeze", n, axes(0)));
    }
    String stacked =
        b.op("grad_norms", "Concat", List.of(intAttr("axis", 0)), norms.toArray(new String[0]));
    return b.op(
        GRAD_NORM, "Sqrt", b.op("grad_norm_sq", "ReduceSumSquare", keep(false), stacked, axes(0)));
  }

  private void adam(Gradients grads, String gradNorm) {
    for (SaeParameter p : SaeParameter.values()) {
      b.input(p.firstMoment(), real, dims(p));
      b.input(p.secondMoment(), real, dims(p));
    }
    String step = b.input(STEP, INT64);
    String lr = b.input(LEARNING_RATE, FLOAT64);

    String clip = null;
    if (spec.clipsGradients()) {
      clip =
          b.op(
              "clip_coef",
              "Min",
              b.op(
                  "clip_coef_raw",
                  "Div",
                  realConst("max_grad_norm", spec.maxGradNorm()),
                  b.op("grad_norm_eps", "Add", gradNorm, realConst("clip_eps", CLIP_EPSILON))),
              realConst("one", 1.0));
    }
    // Bias corrections in double, as torch computes them from Python floats.
    String t = cast("step_f64", step, FLOAT64);
    String one = b.scalar("adam_one_f64", FLOAT64, 1.0);
    String bc1 =
        b.op(
            "bias_correction1",
            "Sub",
            one,
            b.op("beta1_pow", "Pow", b.scalar("beta1_f64", FLOAT64, spec.adamBeta1()), t));
    String bc2 =
        b.op(
            "bias_correction2",
            "Sub",
            one,
            b.op("beta2_pow", "Pow", b.scalar("beta2_f64", FLOAT64, spec.adamBeta2()), t));
    String stepSize = cast("step_size", b.op("step_size_f64", "Div", lr, bc1), real);
    String bc2Sqrt =
        cast("bias_correction2_sqrt", b.op("bias_correction2_sqrt_f64", "Sqrt", bc2), real);
    double weight = 1 - spec.adamBeta1();
    String beta2 = realConst("beta2", spec.adamBeta2());
    String oneMinusBeta2 = realConst("one_minus_beta2", 1 - spec.adamBeta2());
    String eps = realConst("adam_eps", spec.adamEpsilon());

    for (SaeParameter p : SaeParameter.values()) {
      String name = p.tensorName();
      String g = grads.get(p);
      if (clip != null) {
        g = b.op(name + "_grad_clipped", "Mul", g, clip);
      }
      String m = p.firstMoment();
      String v = p.secondMoment();
      // torch's lerp kernel has two forms, exact at either end of the weight range; at β1 = 0
      // (sae-lens's default) the second is g − (g − m)·0 = g, so m is not even read.
      String mNext;
      if (spec.adamBeta1() == 0) {
        mNext = b.op(p.nextFirstMoment(), "Identity", g);
      } else if (weight < 0.5) {
        String toGrad = b.op(name + "_m_to_grad", "Sub", g, m);
        mNext =
            b.op(
                p.nextFirstMoment(),
                "Add",
                m,
                b.op(name + "_m_step", "Mul", realConst("lerp_weight", weight), toGrad));
      } else {
        String toGrad = b.op(name + "_m_to_grad", "Sub", g, m);
        mNext =
            b.op(
                p.nextFirstMoment(),
                "Sub",
                g,
                b.op(
                    name + "_m_step",
                    "Mul",
                    toGrad,
                    realConst("lerp_weight_complement", 1 - weight)));
      }
      String vNext =
          b.op(
              p.nextSecondMoment(),
              "Add",
              b.op(name + "_v_decayed", "Mul", v, beta2),
              b.op(
                  name + "_v_new", "Mul", b.op(name + "_grad_scaled", "Mul", g, oneMinusBeta2), g));
      String denom =
          b.op(
              name + "_adam_denom",
              "Add",
              b.op(name + "_v_corrected", "Div", b.op(name + "_v_sqrt", "Sqrt", vNext), bc2Sqrt),
              eps);
      b.op(
          p.next(),
          "Sub",
          p.tensorName(),
          b.op(name + "_update", "Div", b.op(name + "_m_scaled", "Mul", stepSize, mNext), denom));
    }
  }

  private static Gradients grads(
      String wEncGrad, String bEncGrad, String wDecGrad, String bDecGrad) {
    return new Gradients(wEncGrad, bEncGrad, wDecGrad, bDecGrad);
  }

  private ModelProto model() {
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("sae_stream.graph", "training_step");
    metadata.put("sae_stream.graph_version", TrainingStepGraph.GRAPH_VERSION);
    metadata.put("sae_stream.rule", spec.rule().name().toLowerCase(Locale.ROOT));
    metadata.put("sae_stream.d_in", Long.toString(dIn));
    metadata.put("sae_stream.d_sae", Long.toString(dSae));
    metadata.put("sae_stream.k", Double.toString(spec.k()));
    metadata.put("sae_stream.aux_loss_coefficient", Double.toString(spec.auxLossCoefficient()));
    metadata.put("sae_stream.adam_beta1", Double.toString(spec.adamBeta1()));
    metadata.put("sae_stream.adam_beta2", Double.toString(spec.adamBeta2()));
    metadata.put("sae_stream.adam_epsilon", Double.toString(spec.adamEpsilon()));
    metadata.put("sae_stream.max_grad_norm", Double.toString(spec.maxGradNorm()));
    metadata.put("sae_stream.variant", variant.name());
    metadata.put("sae_stream.precision", precision.name());
    metadata.put("sae_stream.formulation", formulation.name());
    ModelProto.Builder m =
        ModelProto.newBuilder()
            .setIrVersion(TrainingStepGraph.IR_VERSION)
            .addOpsetImport(
                OperatorSetIdProto.newBuilder().setDomain("").setVersion(TrainingStepGraph.OPSET))
            .setProducerName("sae-stream")
            .setProducerVersion(TrainingStepGraph.GRAPH_VERSION)
            .setDomain("io.saestream")
            .setDocString(
                "sae-lens 6.18 "
                    + spec.rule()
                    + " training step ("
                    + variant
                    + ", "
                    + precision
                    + ")")
            .setGraph(b.build());
    metadata.forEach(
        (k, v) -> m.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
    return m.build();
  }

  // ---------------------------------------------------------------- small helpers

  private String scatterColumns(String out, String zeros, String indices, String values) {
    return b.op(out, "ScatterElements", List.of(intAttr("axis", 1)), zeros, indices, values);
  }

  /**
   * TopK of the largest {@code k} along {@code axis}, unsorted (the selection, not its order, is
   * what the step needs): {@code [values, indices]}.
   */
  private List<String> largest(
      String valuesOut, String indicesOut, long axis, String input, String k) {
    return b.ops(
        List.of(valuesOut, indicesOut),
        "TopK",
        List.of(intAttr("axis", axis), intAttr("largest", 1), intAttr("sorted", 0)),
        input,
        k);
  }

  private String gather(String out, String data, String indices, long axis) {
    return b.op(out, "Gather", List.of(intAttr("axis", axis)), data, indices);
  }

  private String column(String out, String vector) {
    return b.op(out, "Unsqueeze", vector, axes(1));
  }

  private String reshape(String out, String in, long... shape) {
    StringBuilder key = new StringBuilder("shape");
    for (long s : shape) {
      key.append('_').append(s < 0 ? "m" + -s : Long.toString(s));
    }
    return b.op(out, "Reshape", in, int64s(key.toString(), shape));
  }

  private String cast(String out, String in, ElementType to) {
    return b.op(out, "Cast", List.of(intAttr("to", to.dataType().getNumber())), in);
  }

  /** ConstantOfShape: a tensor of {@code shape} with every element {@code value}. */
  private String filled(String out, ElementType type, double value, String shape) {
    return b.op(out, "ConstantOfShape", List.of(scalarTensorAttr("value", type, value)), shape);
  }

  private String zero() {
    return realConst("zero", 0.0);
  }

  private String realConst(String name, double v) {
    return b.once("real_" + name, () -> b.scalar(name, real, v));
  }

  private String int64s(String name, long... v) {
    return b.once("i64s_" + name, () -> b.int64s(name, v));
  }

  private String int64Scalar(String name, long v) {
    return b.once("i64_" + name, () -> b.int64Scalar(name, v));
  }

  private String axes(long axis) {
    return int64s("axes_" + axis, axis);
  }

  private static List<String> names(List<GraphBuilder.Declaration> declared) {
    List<String> names = new ArrayList<>();
    for (GraphBuilder.Declaration d : declared) {
      names.add(d.name());
    }
    return names;
  }

  private static List<AttributeProto> keep(boolean keep) {
    return List.of(intAttr("keepdims", keep ? 1 : 0));
  }

  private static List<AttributeProto> reduction() {
    return List.of(stringAttr("reduction", ADD));
  }
}
