package io.saestream.sae.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An ONNX Runtime session over an exported model, single-threaded for repeatable timings on shared
 * test machines; outputs are copied to Java arrays. Owns its session: close it.
 */
final class OrtModel implements AutoCloseable {

  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  private final OrtSession session;

  private OrtModel(OrtSession session) {
    this.session = session;
  }

  static OrtModel load(byte[] model) throws OrtException {
    try (OrtSession.SessionOptions o = options()) {
      return new OrtModel(ENV.createSession(model, o));
    }
  }

  static OrtModel load(Path model) throws OrtException {
    try (OrtSession.SessionOptions o = options()) {
      return new OrtModel(ENV.createSession(model.toString(), o));
    }
  }

  private static OrtSession.SessionOptions options() throws OrtException {
    OrtSession.SessionOptions o = new OrtSession.SessionOptions();
    o.setIntraOpNumThreads(1);
    o.setInterOpNumThreads(1);
    return o;
  }

  OrtSession session() {
    return session;
  }

  /** Runs the model on {@code x} only. */
  Map<String, Object> run(float[][] x) throws OrtException {
    try (OnnxTensor t = OnnxTensor.createTensor(ENV, x)) {
      return run(Map.of("x", t));
    }
  }

  /** Runs the model; the caller owns the inputs. Returns every output as a Java array. */
  Map<String, Object> run(Map<String, OnnxTensor> inputs) throws OrtException {
    Map<String, Object> out = new LinkedHashMap<>();
    try (OrtSession.Result r = session.run(inputs)) {
      for (Map.Entry<String, OnnxValue> e : r) {
        out.put(e.getKey(), e.getValue().getValue());
      }
    }
    return out;
  }

  /** Output {@code name} of a {@link #run} result, which must be present. */
  static <T> T output(Map<String, Object> outputs, String name, Class<T> type) {
    Object v = outputs.get(name);
    if (v == null) {
      throw new AssertionError("no output " + name + " in " + outputs.keySet());
    }
    return type.cast(v);
  }

  @Override
  public void close() throws OrtException {
    session.close();
  }
}
