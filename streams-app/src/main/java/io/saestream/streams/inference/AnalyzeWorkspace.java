package io.saestream.streams.inference;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Direct output buffers of the analyze graph, bound to ONNX Runtime as pinned outputs, plus the
 * {@link SaeAnalysis} view over them. The buffers grow to the largest batch seen and are reused;
 * the tensor handles over them are rebuilt only when the token count changes (producers send
 * batches of a few fixed sizes). Used by one caller at a time (borrowed from {@link SaeSession}).
 */
final class AnalyzeWorkspace implements SaeAnalysis, AutoCloseable {

  /** Every output is pinned; ONNX Runtime allocates none. */
  private static final Set<String> NO_ALLOCATED_OUTPUTS = Set.of();

  private final int slots;
  private int capacityTokens;
  private int tokens = -1;
  private LongBuffer indices = LongBuffer.allocate(0);
  private FloatBuffer values = FloatBuffer.allocate(0);
  private FloatBuffer sse = FloatBuffer.allocate(0);
  private FloatBuffer relativeError = FloatBuffer.allocate(0);
  private FloatBuffer cosine = FloatBuffer.allocate(0);
  private LongBuffer l0 = LongBuffer.allocate(0);
  private LongBuffer dropped = LongBuffer.allocate(0);
  private final Map<String, OnnxTensor> pinned = new HashMap<>();

  AnalyzeWorkspace(int slots) {
    this.slots = slots;
  }

  <T> T run(
      OrtSession session,
      OrtEnvironment environment,
      FloatBuffer input,
      int nTokens,
      int dIn,
      AnalysisReader<T> reader)
      throws OrtException {
    bind(environment, nTokens);
    long[] shape = {nTokens, dIn};
    try (OnnxTensor x = OnnxTensor.createTensor(environment, input, shape);
        OrtSession.Result result =
            session.run(Map.of(SaeSession.INPUT, x), NO_ALLOCATED_OUTPUTS, pinned)) {
      // The pinned outputs now hold the results; the Result only refers to them.
      if (result.size() != pinned.size()) {
        throw new InferenceException(
            "analyze returned " + result.size() + " outputs, expected " + pinned.size());
      }
      return reader.read(this);
    }
  }

  private void bind(OrtEnvironment environment, int nTokens) throws OrtException {
    if (nTokens == tokens) {
      return;
    }
    closeTensors();
    tokens = -1;
    if (nTokens > capacityTokens) {
      // Grow geometrically so that a slowly rising batch size does not reallocate every time.
      int capacity = (int) Math.min(Integer.MAX_VALUE / Math.max(slots, 1), nTokens * 3L / 2 + 1);
      capacity = Math.max(capacity, nTokens);
      indices = direct((long) capacity * slots * Long.BYTES).asLongBuffer();
      values = direct((long) capacity * slots * Float.BYTES).asFloatBuffer();
      sse = direct((long) capacity * Float.BYTES).asFloatBuffer();
      relativeError = direct((long) capacity * Float.BYTES).asFloatBuffer();
      cosine = direct((long) capacity * Float.BYTES).asFloatBuffer();
      l0 = direct((long) capacity * Long.BYTES).asLongBuffer();
      dropped = direct((long) capacity * Long.BYTES).asLongBuffer();
      capacityTokens = capacity;
    }
    long[] matrix = {nTokens, slots};
    long[] vector = {nTokens};
    pinned.put(
        "indices", OnnxTensor.createTensor(environment, view(indices, nTokens * slots), matrix));
    pinned.put(
        "values", OnnxTensor.createTensor(environment, view(values, nTokens * slots), matrix));
    pinned.put("sse", OnnxTensor.createTensor(environment, view(sse, nTokens), vector));
    pinned.put(
        "relative_error",
        OnnxTensor.createTensor(environment, view(relativeError, nTokens), vector));
    pinned.put("cosine", OnnxTensor.createTensor(environment, view(cosine, nTokens), vector));
    pinned.put("l0", OnnxTensor.createTensor(environment, view(l0, nTokens), vector));
    pinned.put("dropped", OnnxTensor.createTensor(environment, view(dropped, nTokens), vector));
    tokens = nTokens;
  }

  @Override
  public int tokens() {
    return tokens;
  }

  @Override
  public int slots() {
    return slots;
  }

  @Override
  public long index(int token, int slot) {
    return indices.get(flat(token, slot));
  }

  @Override
  public float value(int token, int slot) {
    return values.get(flat(token, slot));
  }

  @Override
  public float sse(int token) {
    return sse.get(checkToken(token));
  }

  @Override
  public float relativeError(int token) {
    return relativeError.get(checkToken(token));
  }

  @Override
  public float cosine(int token) {
    return cosine.get(checkToken(token));
  }

  @Override
  public long l0(int token) {
    return l0.get(checkToken(token));
  }

  @Override
  public long dropped(int token) {
    return dropped.get(checkToken(token));
  }

  @Override
  public void close() {
    closeTensors();
    tokens = -1;
  }

  private int flat(int token, int slot) {
    checkToken(token);
    if (slot < 0 || slot >= slots) {
      throw new IndexOutOfBoundsException("slot " + slot + " outside [0, " + slots + ")");
    }
    return token * slots + slot;
  }

  private int checkToken(int token) {
    if (token < 0 || token >= tokens) {
      throw new IndexOutOfBoundsException("token " + token + " outside [0, " + tokens + ")");
    }
    return token;
  }

  private void closeTensors() {
    for (OnnxTensor tensor : pinned.values()) {
      tensor.close();
    }
    pinned.clear();
  }

  private static ByteBuffer direct(long bytes) {
    if (bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "output buffer of "
              + bytes
              + " bytes exceeds 2 GiB; lower streams.max-tokens-per-record");
    }
    return ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
  }

  private static FloatBuffer view(FloatBuffer buffer, int length) {
    FloatBuffer view = buffer.duplicate();
    view.clear().limit(length);
    return view.slice();
  }

  private static LongBuffer view(LongBuffer buffer, int length) {
    LongBuffer view = buffer.duplicate();
    view.clear().limit(length);
    return view.slice();
  }
}
