package io.saestream.sae.training;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An ONNX Runtime session over a {@link TrainingStepModel} for tests: inputs are given as Java
 * double arrays and converted to the model's precision, outputs come back as double (or long)
 * arrays. Owns its session and the tensors of each call: close it.
 */
final class StepSession implements AutoCloseable {

  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  private final TrainingStepModel model;
  private final OrtSession session;

  StepSession(TrainingStepModel model) throws OrtException {
    this(model, 1);
  }

  StepSession(TrainingStepModel model, int threads) throws OrtException {
    this.model = model;
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(threads);
      o.setInterOpNumThreads(1);
      this.session = ENV.createSession(model.toByteArray(), o);
    }
  }

  OrtSession session() {
    return session;
  }

  /** Runs on {@code problem} (no Adam inputs). */
  Outputs run(SaeProblem problem) throws OrtException {
    return run(problem, Map.of(), -1, 0);
  }

  /**
   * Runs on {@code problem}; for ADAM graphs {@code moments} maps each moment input name to its
   * values and {@code step}/{@code lr} are the schedule inputs.
   */
  Outputs run(SaeProblem problem, Map<String, double[]> moments, long step, double lr)
      throws OrtException {
    List<OnnxTensor> owned = new ArrayList<>();
    try {
      Map<String, OnnxTensor> in = new LinkedHashMap<>();
      in.put(TrainingStepGraph.X, real(owned, problem.x(), problem.batch(), problem.dIn()));
      for (SaeParameter p : SaeParameter.values()) {
        in.put(p.tensorName(), real(owned, problem.parameter(p), p.shape(problem.spec())));
      }
      OnnxTensor dead = OnnxTensor.createTensor(ENV, problem.dead());
      owned.add(dead);
      in.put(TrainingStepGraph.DEAD_MASK, dead);
      if (model.variant() == StepVariant.ADAM) {
        for (SaeParameter p : SaeParameter.values()) {
          for (String name : List.of(p.firstMoment(), p.secondMoment())) {
            double[] m = moments.get(name);
            if (m == null) {
              throw new IllegalArgumentException("no values for moment " + name);
            }
            in.put(name, real(owned, m, p.shape(problem.spec())));
          }
        }
        OnnxTensor t = OnnxTensor.createTensor(ENV, step);
        owned.add(t);
        in.put(TrainingStepGraph.STEP, t);
        OnnxTensor l = OnnxTensor.createTensor(ENV, lr);
        owned.add(l);
        in.put(TrainingStepGraph.LEARNING_RATE, l);
      }
      Map<String, double[]> reals = new LinkedHashMap<>();
      Map<String, long[]> longs = new LinkedHashMap<>();
      try (OrtSession.Result r = session.run(in)) {
        for (Map.Entry<String, OnnxValue> e : r) {
          OnnxTensor t = (OnnxTensor) e.getValue();
          switch (t.getInfo().type) {
            case FLOAT -> reals.put(e.getKey(), toDoubles(t.getFloatBuffer()));
            case DOUBLE -> reals.put(e.getKey(), toDoubles(t.getDoubleBuffer()));
            case INT64 -> longs.put(e.getKey(), toLongs(t.getLongBuffer()));
            default ->
                throw new IllegalStateException("unexpected output type " + t.getInfo().type);
          }
        }
      }
      return new Outputs(reals, longs);
    } finally {
      for (OnnxTensor t : owned) {
        t.close();
      }
    }
  }

  private OnnxTensor real(List<OnnxTensor> owned, double[] values, long... shape)
      throws OrtException {
    OnnxTensor t;
    if (model.precision() == Precision.FLOAT64) {
      t = OnnxTensor.createTensor(ENV, DoubleBuffer.wrap(values), shape);
    } else {
      float[] f = new float[values.length];
      for (int i = 0; i < f.length; i++) {
        f[i] = (float) values[i];
      }
      t = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(f), shape);
    }
    owned.add(t);
    return t;
  }

  private static double[] toDoubles(FloatBuffer b) {
    double[] out = new double[b.remaining()];
    for (int i = 0; i < out.length; i++) {
      out[i] = b.get(i);
    }
    return out;
  }

  private static double[] toDoubles(DoubleBuffer b) {
    double[] out = new double[b.remaining()];
    b.get(out);
    return out;
  }

  private static long[] toLongs(LongBuffer b) {
    long[] out = new long[b.remaining()];
    b.get(out);
    return out;
  }

  @Override
  public void close() throws OrtException {
    session.close();
  }

  /** The outputs of one run, by name. */
  static final class Outputs {
    private final Map<String, double[]> reals;
    private final Map<String, long[]> longs;

    Outputs(Map<String, double[]> reals, Map<String, long[]> longs) {
      this.reals = reals;
      this.longs = longs;
    }

    double[] get(String name) {
      double[] v = reals.get(name);
      if (v == null) {
        throw new AssertionError("no real output " + name + " in " + reals.keySet());
      }
      return v;
    }

    double scalar(String name) {
      return get(name)[0];
    }

    long[] longs(String name) {
      long[] v = longs.get(name);
      if (v == null) {
        throw new AssertionError("no int64 output " + name + " in " + longs.keySet());
      }
      return v;
    }

    boolean has(String name) {
      return reals.containsKey(name) || longs.containsKey(name);
    }
  }
}
