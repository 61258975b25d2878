package io.saestream.sae.training;

/**
 * The four trained tensors of a TopK/BatchTopK SAE, with the graph names that carry them, their
 * gradients and their Adam moments. Names follow sae-lens ({@code W_enc}, …); everything derived
 * adds a prefix or a suffix so that a step's outputs can be fed back as the next step's inputs.
 */
public enum SaeParameter {
  /** Encoder weights {@code [d_in, d_sae]}. */
  W_ENC("W_enc"),
  /** Encoder bias {@code [d_sae]}. */
  B_ENC("b_enc"),
  /** Decoder weights {@code [d_sae, d_in]}; its row norms rescale the activations. */
  W_DEC("W_dec"),
  /** Decoder bias {@code [d_in]}, also subtracted from the input. */
  B_DEC("b_dec");

  private final String tensorName;

  SaeParameter(String tensorName) {
    this.tensorName = tensorName;
  }

  /** The input name, as in sae-lens's state dict, e.g. {@code W_enc}. */
  public String tensorName() {
    return tensorName;
  }

  /** The output holding d loss / d this parameter, e.g. {@code grad_W_enc}. */
  public String gradient() {
    return "grad_" + tensorName;
  }

  /** The output holding the parameter after the Adam update, e.g. {@code W_enc_next}. */
  public String next() {
    return tensorName + "_next";
  }

  /** The input holding Adam's first moment, e.g. {@code m_W_enc}. */
  public String firstMoment() {
    return "m_" + tensorName;
  }

  /** The input holding Adam's second moment, e.g. {@code v_W_enc}. */
  public String secondMoment() {
    return "v_" + tensorName;
  }

  /** The output holding the updated first moment, e.g. {@code m_W_enc_next}. */
  public String nextFirstMoment() {
    return firstMoment() + "_next";
  }

  /** The output holding the updated second moment, e.g. {@code v_W_enc_next}. */
  public String nextSecondMoment() {
    return secondMoment() + "_next";
  }

  /** The shape of this parameter (and of its gradient and moments) under {@code spec}. */
  public long[] shape(TrainingStepSpec spec) {
    return switch (this) {
      case W_ENC -> new long[] {spec.dIn(), spec.dSae()};
      case B_ENC -> new long[] {spec.dSae()};
      case W_DEC -> new long[] {spec.dSae(), spec.dIn()};
      case B_DEC -> new long[] {spec.dIn()};
    };
  }

  /** The number of elements of this parameter under {@code spec}. */
  public long elementCount(TrainingStepSpec spec) {
    long n = 1;
    for (long d : shape(spec)) {
      n *= d;
    }
    return n;
  }
}
