package io.saestream.streams.inference;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An ONNX Runtime session over one SAE's analyze graph (see {@code GraphKind.ANALYZE}), shared by
 * every stream thread.
 *
 * <p>Ownership and lifetime: created by {@link InferenceEngine#openSession} and owned by whoever
 * deploys the SAE (the registry). The session is reference counted: the owner holds one reference,
 * {@link #analyze} holds one for the duration of the call, and readers that must keep the session
 * alive across several calls (a route) take one with {@link #tryRetain()} and give it back with
 * {@link #release()}. {@link #close()} gives up the owner's reference; the native session is
 * released when the last reference goes, so a hot swap can close an old session while in-flight
 * calls finish on it. Once closed, {@link #analyze} and {@link #tryRetain()} refuse ({@link
 * IllegalStateException}, {@code false}).
 *
 * <p>Thread-safe. Each concurrent call borrows a workspace of pre-allocated, direct output buffers
 * (pinned ONNX Runtime outputs), so steady-state calls allocate no tensors' worth of memory; there
 * are as many workspaces as there were concurrent callers, i.e. stream threads.
 */
public final class SaeSession implements AutoCloseable {

  /** Input name of the analyze graph. */
  static final String INPUT = "x";

  /** The outputs read back; {@code sae_out} stays inside ONNX Runtime. */
  static final List<String> OUTPUTS =
      List.of("indices", "values", "sse", "relative_error", "cosine", "l0", "dropped");

  private static final Logger LOG = LoggerFactory.getLogger(SaeSession.class);

  private final String name;
  private final OrtEnvironment environment;
  private final OrtSession session;
  private final int dIn;
  private final int slots;
  private final AtomicInteger references = new AtomicInteger(1);
  private final AtomicBoolean closed = new AtomicBoolean();
  private final ConcurrentLinkedDeque<AnalyzeWorkspace> idleWorkspaces =
      new ConcurrentLinkedDeque<>();
  private final List<AnalyzeWorkspace> allWorkspaces = new ArrayList<>();

  /**
   * Wraps {@code session}, checking that it is an analyze graph; takes ownership of it (closes it
   * on failure too).
   */
  SaeSession(String name, OrtEnvironment environment, OrtSession session) {
    this.name = Objects.requireNonNull(name, "name");
    this.environment = environment;
    this.session = session;
    try {
      this.dIn = (int) dimension(session.getInputInfo(), INPUT, 1, "input");
      Map<String, NodeInfo> outputs = session.getOutputInfo();
      for (String output : OUTPUTS) {
        if (!outputs.containsKey(output)) {
          throw new InferenceException(
              "SAE " + name + ": model is not an analyze graph, it lacks output '" + output + "'");
        }
      }
      this.slots = (int) dimension(outputs, "values", 1, "output");
    } catch (OrtException | RuntimeException e) {
      closeQuietly(session, e);
      if (e instanceof InferenceException ie) {
        throw ie;
      }
      throw new InferenceException("SAE " + name + ": cannot read the model's signature", e);
    }
  }

  /** The name used in messages (the SAE id). */
  public String name() {
    return name;
  }

  /** The input width {@code d_in} the graph accepts. */
  public int dIn() {
    return dIn;
  }

  /** K, the number of (index, value) slots per token. */
  public int slots() {
    return slots;
  }

  /**
   * Runs the analyze graph on {@code nTokens} rows of {@code x} (row-major {@code [nTokens, d_in]}
   * float32, read from its position; a direct buffer in native order is used without a copy) and
   * hands the outputs to {@code reader}.
   *
   * @return what {@code reader} returns
   * @throws IllegalStateException when the session is closed
   * @throws IllegalArgumentException when {@code x} holds fewer than {@code nTokens × d_in} floats
   * @throws InferenceException when ONNX Runtime fails
   */
  public <T> T analyze(FloatBuffer x, int nTokens, AnalysisReader<T> reader) {
    Objects.requireNonNull(x, "x");
    Objects.requireNonNull(reader, "reader");
    if (nTokens <= 0) {
      throw new IllegalArgumentException("nTokens must be > 0, was " + nTokens);
    }
    long elements = (long) nTokens * dIn;
    if (x.remaining() < elements) {
      throw new IllegalArgumentException(
          "x must hold nTokens × d_in = "
              + nTokens
              + " × "
              + dIn
              + " floats, has "
              + x.remaining());
    }
    if (!tryRetain()) {
      throw new IllegalStateException("SAE session " + name + " is closed");
    }
    try {
      AnalyzeWorkspace workspace = borrowWorkspace();
      try {
        FloatBuffer input = x.slice();
        input.limit((int) elements);
        return workspace.run(session, environment, input, nTokens, dIn, reader);
      } catch (OrtException e) {
        throw new InferenceException(
            "SAE " + name + ": ONNX Runtime failed on " + nTokens + " tokens", e);
      } finally {
        idleWorkspaces.push(workspace);
      }
    } finally {
      release();
    }
  }

  /**
   * Takes a reference that keeps the session open until {@link #release()}; false when it is
   * already closed.
   */
  public boolean tryRetain() {
    while (true) {
      int current = references.get();
      if (current == 0) {
        return false;
      }
      if (references.compareAndSet(current, current + 1)) {
        return true;
      }
    }
  }

  /** Gives back a reference taken with {@link #tryRetain()}. */
  public void release() {
    int remaining = references.decrementAndGet();
    if (remaining == 0) {
      closeNative();
    } else if (remaining < 0) {
      references.incrementAndGet();
      throw new IllegalStateException("SAE session " + name + " released more than retained");
    }
  }

  /** Whether {@link #close()} was called (the native session may still serve in-flight calls). */
  public boolean isClosed() {
    return closed.get();
  }

  /**
   * Gives up the owner's reference; the native session is released once in-flight calls finish.
   * Idempotent.
   */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      release();
    }
  }

  private AnalyzeWorkspace borrowWorkspace() {
    AnalyzeWorkspace workspace = idleWorkspaces.poll();
    if (workspace != null) {
      return workspace;
    }
    AnalyzeWorkspace created = new AnalyzeWorkspace(slots);
    synchronized (allWorkspaces) {
      allWorkspaces.add(created);
    }
    return created;
  }

  private void closeNative() {
    // Reached once: the reference count only hits 0 after close() gave up the owner's reference
    // and every call has returned its own, so no workspace is in use.
    synchronized (allWorkspaces) {
      for (AnalyzeWorkspace workspace : allWorkspaces) {
        workspace.close();
      }
      allWorkspaces.clear();
    }
    idleWorkspaces.clear();
    try {
      session.close();
      LOG.debug("Closed ONNX Runtime session of SAE {}", name);
    } catch (OrtException e) {
      throw new InferenceException("SAE " + name + ": closing the ONNX Runtime session failed", e);
    }
  }

  private long dimension(Map<String, NodeInfo> nodes, String node, int axis, String kind) {
    NodeInfo info = nodes.get(node);
    if (info == null || !(info.getInfo() instanceof TensorInfo tensor)) {
      throw new InferenceException(
          "SAE " + name + ": model is not an analyze graph, it lacks " + kind + " '" + node + "'");
    }
    long[] shape = tensor.getShape();
    if (shape.length != 2 || shape[axis] <= 0) {
      throw new InferenceException(
          "SAE "
              + name
              + ": "
              + kind
              + " '"
              + node
              + "' must have shape [N, fixed], was "
              + Arrays.toString(shape));
    }
    return shape[axis];
  }

  private static void closeQuietly(OrtSession session, Exception primary) {
    try {
      session.close();
    } catch (OrtException e) {
      primary.addSuppressed(e);
    }
  }

  @Override
  public String toString() {
    return "SaeSession[" + name + ", d_in=" + dIn + ", K=" + slots + "]";
  }
}
