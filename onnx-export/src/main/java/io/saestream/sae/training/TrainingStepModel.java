package io.saestream.sae.training;

import java.util.List;
import java.util.Objects;

/**
 * A serialised training-step ONNX model and what it was built from: hand {@link #toByteArray()} to
 * {@code OrtEnvironment.createSession}. The model has no weights of its own (a few KB), so it is
 * held in memory. Immutable and thread-safe.
 */
public final class TrainingStepModel {

  private final TrainingStepSpec spec;
  private final StepVariant variant;
  private final Precision precision;
  private final Formulation formulation;
  private final byte[] bytes;
  private final List<String> inputNames;
  private final List<String> outputNames;

  TrainingStepModel(
      TrainingStepSpec spec,
      StepVariant variant,
      Precision precision,
      Formulation formulation,
      byte[] bytes,
      List<String> inputNames,
      List<String> outputNames) {
    this.spec = Objects.requireNonNull(spec, "spec");
    this.variant = Objects.requireNonNull(variant, "variant");
    this.precision = Objects.requireNonNull(precision, "precision");
    this.formulation = Objects.requireNonNull(formulation, "formulation");
    this.bytes = bytes.clone();
    this.inputNames = List.copyOf(inputNames);
    this.outputNames = List.copyOf(outputNames);
  }

  /** The step this model computes. */
  public TrainingStepSpec spec() {
    return spec;
  }

  /** What the model returns. */
  public StepVariant variant() {
    return variant;
  }

  /** The real element type of its tensors. */
  public Precision precision() {
    return precision;
  }

  /** The layout of its computation. */
  public Formulation formulation() {
    return formulation;
  }

  /** A copy of the serialised {@code ModelProto}. */
  public byte[] toByteArray() {
    return bytes.clone();
  }

  /** The size of the serialised model in bytes. */
  public int byteSize() {
    return bytes.length;
  }

  /** Graph input names, in declaration order. */
  public List<String> inputNames() {
    return inputNames;
  }

  /** Graph output names, in declaration order. */
  public List<String> outputNames() {
    return outputNames;
  }

  @Override
  public String toString() {
    return "TrainingStepModel["
        + spec
        + ", "
        + variant
        + ", "
        + precision
        + ", "
        + formulation
        + ", "
        + bytes.length
        + " bytes]";
  }
}
