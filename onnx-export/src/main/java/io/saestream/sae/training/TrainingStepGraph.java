package io.saestream.sae.training;

import java.util.Objects;

/**
 * Builds one sae-lens 6.18 TopK/BatchTopK training step ({@code TopKTrainingSAE} / {@code
 * BatchTopKTrainingSAE} with {@code rescale_acts_by_decoder_norm=true}) as an ONNX graph: forward,
 * hand-derived backward, gradient-norm clipping and Adam. The parameters, the Adam moments, the
 * dead-latent mask, the step number and the learning rate are graph inputs, so the caller (the
 * trainer, which owns the ONNX Runtime session) feeds each step's outputs back in and drives
 * schedules from Java. Stateless and thread-safe.
 *
 * <h2>Inputs</h2>
 *
 * {@code x [B, d_in]} (B is the symbolic dim {@value #BATCH}), the four {@link SaeParameter}s,
 * {@code dead_mask} bool {@code [d_sae]} (true = dead: not fired within the caller's window); for
 * {@link StepVariant#ADAM} also each parameter's Adam moments, {@code step} (int64 scalar, the
 * 1-based number of this update, for the bias corrections) and {@code lr} (float64 scalar). Real
 * tensors are float32, or float64 under {@link Precision#FLOAT64}.
 *
 * <h2>Math</h2>
 *
 * With {@code n_j = ‖W_dec[j]‖}: {@code h = ((x − b_dec)·W_enc + b_enc) ⊙ n} ({@code hidden_pre});
 * TopK keeps the k largest h of each row and applies ReLU to them; BatchTopK applies ReLU and keeps
 * the {@code ⌊k·B⌋} largest of the whole batch. {@code x̂ = (f ⊙ (1/n))·W_dec + b_dec}; {@code
 * mse_loss = mean_rows Σ_d (x̂ − x)²}. Aux-k: with {@code nd} dead latents, {@code k_aux = min(d_in
 * // 2, nd)} and {@code scale = min(nd / (d_in // 2), 1)}; per row the k_aux largest {@code h}
 * among dead latents (no ReLU) are decoded the same way (with {@code b_dec}) against the residual
 * {@code x − x̂} (a constant), {@code aux_loss = coeff·scale·mean_rows Σ_d (recons − residual)²}, 0
 * when nothing is dead. {@code loss = mse_loss + aux_loss}. Gradients flow through both terms and
 * through both uses of n (encode and decode, {@code ∂n_j/∂W_dec[j] = W_dec[j]/n_j}) and stop at the
 * unselected latents and at selected ones whose pre-activation is ≤ 0 (ReLU; not in aux-k). Adam is
 * torch's: {@code m ← lerp(m, g, 1−β1)}, {@code v ← β2·v + (1−β2)·g²}, {@code p ← p − lr/(1−β1ᵗ) ·
 * m / (√v/√(1−β2ᵗ) + ε)}, after scaling all gradients by {@code min(max_norm/(‖g‖ + 1e-6), 1)}.
 *
 * <h2>Cost (B tokens, T = k·B kept entries, nd dead latents)</h2>
 *
 * {@link Formulation#SPARSE}: one dense GEMM, the encoder's {@code B·d_in·d_sae}. Decoding and the
 * decoder and encoder gradients touch only the T kept entries: their decoder rows are gathered
 * ({@code [T, d_in]}), TopK decodes with a batched {@code [1,k]·[k,d_in]} product per token
 * (BatchTopK, whose count varies per token, scatter-adds), and the two weight gradients are
 * scatter-adds of {@code [T, d_in]} rows into {@code [d_sae, d_in]}. Aux-k works on the {@code
 * B×(nd+1)} columns of the dead latents only (four GEMMs of {@code B·(nd+1)·d_in}; with nothing
 * dead they shrink to one column). Adam and clipping are about 15 element-wise passes over the
 * parameters. {@link Formulation#DENSE} spends eight {@code B·d_in·d_sae} GEMMs instead of one.
 * TrainingStepBenchmark (test sources) measures them side by side.
 */
public final class TrainingStepGraph {

  /** ONNX opset of the default domain (ScatterND/ScatterElements reductions need 16+). */
  public static final int OPSET = 18;

  /** ONNX IR version (IR 8 covers opset 18). */
  public static final long IR_VERSION = 8;

  /** Version of the graph contract; bumped whenever inputs, outputs or semantics change. */
  public static final String GRAPH_VERSION = "1";

  /** The symbolic batch dimension. */
  public static final String BATCH = "batch";

  /** Input: the batch of activations {@code [B, d_in]}. */
  public static final String X = "x";

  /** Input: bool {@code [d_sae]}, true where the latent is dead. */
  public static final String DEAD_MASK = "dead_mask";

  /** Input ({@link StepVariant#ADAM}): int64 scalar, the 1-based number of this update. */
  public static final String STEP = "step";

  /** Input ({@link StepVariant#ADAM}): float64 scalar learning rate. */
  public static final String LEARNING_RATE = "lr";

  /** Output: {@code mse_loss + aux_loss}, scalar. */
  public static final String LOSS = "loss";

  /** Output: the reconstruction loss, scalar. */
  public static final String MSE_LOSS = "mse_loss";

  /** Output: the aux-k loss (sae-lens's {@code auxiliary_reconstruction_loss}), scalar. */
  public static final String AUX_LOSS = "aux_loss";

  /** Output: the global L2 norm of the raw gradients, before clipping, scalar. */
  public static final String GRAD_NORM = "grad_norm";

  /** Output: int64 {@code [d_sae]}, how many tokens of the batch each latent fired on. */
  public static final String FIRED_COUNTS = "fired_counts";

  /** Output: mean number of firing latents per token, scalar. */
  public static final String L0 = "l0";

  /**
   * Output: the smallest positive activation kept in the batch ({@code +∞} if none), scalar; feeds
   * {@link BatchTopKThreshold#update}.
   */
  public static final String MIN_POSITIVE_ACT = "min_positive_act";

  /** Output ({@link StepVariant#GRADIENTS}, {@link StepVariant#DEBUG}): {@code x̂ [B, d_in]}. */
  public static final String SAE_OUT = "sae_out";

  /** Output ({@link StepVariant#DEBUG}): dense feature activations {@code [B, d_sae]}. */
  public static final String FEATURE_ACTS = "feature_acts";

  /** Output ({@link StepVariant#DEBUG}): the rescaled pre-activation {@code h [B, d_sae]}. */
  public static final String HIDDEN_PRE = "hidden_pre";

  private TrainingStepGraph() {}

  /** A builder for the step {@code spec} describes: by default ADAM, FLOAT32, SPARSE. */
  public static Builder builder(TrainingStepSpec spec) {
    return new Builder(spec);
  }

  /** Chooses the variant, precision and formulation; single-use, not thread-safe. */
  public static final class Builder {
    private final TrainingStepSpec spec;
    private StepVariant variant = StepVariant.ADAM;
    private Precision precision = Precision.FLOAT32;
    private Formulation formulation = Formulation.SPARSE;

    private Builder(TrainingStepSpec spec) {
      this.spec = Objects.requireNonNull(spec, "spec");
    }

    /** What the graph returns (default {@link StepVariant#ADAM}). */
    public Builder variant(StepVariant v) {
      this.variant = Objects.requireNonNull(v, "variant");
      return this;
    }

    /** The real element type (default {@link Precision#FLOAT32}). */
    public Builder precision(Precision p) {
      this.precision = Objects.requireNonNull(p, "precision");
      return this;
    }

    /** The layout of the computation (default {@link Formulation#SPARSE}). */
    public Builder formulation(Formulation f) {
      this.formulation = Objects.requireNonNull(f, "formulation");
      return this;
    }

    /** Builds the graph. */
    public TrainingStepModel build() {
      return StepAssembly.assemble(spec, variant, precision, formulation);
    }
  }
}
