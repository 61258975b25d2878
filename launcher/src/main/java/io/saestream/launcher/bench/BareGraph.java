package io.saestream.launcher.bench;

import io.saestream.streams.config.Device;
import io.saestream.streams.config.InferenceSettings;
import io.saestream.streams.inference.InferenceEngine;
import io.saestream.streams.inference.SaeSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The bare analyze graph, run the way the streams app runs it but without Kafka: {@code callers}
 * threads (the app's stream threads) call one shared session concurrently, each on one record's
 * tokens from its own direct buffer, with the app's session options (same {@link InferenceEngine},
 * same intra-op thread count).
 *
 * <p>Owns its session and its caller threads; {@link #close()} releases both. Used by one thread at
 * a time.
 */
final class BareGraph implements AutoCloseable {

  /**
   * One sample: the callers ran continuously through a measurement window.
   *
   * @param tokensPerSecond tokens processed inside the window over its length, each call counted by
   *     the share of its duration that fell inside: the steady-state throughput, free of start-up
   *     and tail effects and unbiased when callers outnumber cores
   * @param callMs the duration of each call that ended inside the window
   */
  record Sample(double tokensPerSecond, List<Double> callMs) {

    Sample {
      callMs = List.copyOf(callMs);
    }
  }

  /** A finished call, System.nanoTime() at both ends. */
  private record Call(long start, long end) {}

  private final int callers;
  private final int intraOpThreads;
  private final int tokens;
  private final int k;
  private final InferenceEngine engine;
  private final SaeSession session;
  private final ExecutorService threads;
  private final List<FloatBuffer> inputs = new ArrayList<>();

  private BareGraph(
      int callers,
      int intraOpThreads,
      int tokens,
      int dIn,
      int k,
      InferenceEngine engine,
      SaeSession session) {
    this.callers = callers;
    this.intraOpThreads = intraOpThreads;
    this.tokens = tokens;
    this.k = k;
    this.engine = engine;
    this.session = session;
    this.threads =
        Executors.newFixedThreadPool(
            callers,
            r -> {
              Thread t = new Thread(r, "bench-bare-caller");
              t.setDaemon(true);
              return t;
            });
    for (int c = 0; c < callers; c++) {
      float[] x = ActivationRecords.activations(c, tokens, dIn);
      FloatBuffer buffer =
          ByteBuffer.allocateDirect(x.length * Float.BYTES)
              .order(ByteOrder.nativeOrder())
              .asFloatBuffer();
      buffer.put(x).flip();
      inputs.add(buffer);
    }
  }

  /**
   * Opens the analyze graph {@code model} on a CPU engine with {@code intraOpThreads}, for {@code
   * callers} concurrent callers of {@code tokens} tokens each.
   */
  static BareGraph open(byte[] model, int callers, int intraOpThreads, int tokens, int dIn, int k) {
    InferenceEngine engine =
        InferenceEngine.create(new InferenceSettings(Device.CPU, 0, intraOpThreads));
    SaeSession session = engine.openSession("bare", model);
    return new BareGraph(callers, intraOpThreads, tokens, dIn, k, engine, session);
  }

  /** "C caller(s) × I intra-op thread(s)". */
  String layout() {
    return layout(callers, intraOpThreads);
  }

  static String layout(int callers, int intraOpThreads) {
    return String.format(
        Locale.ROOT,
        "%d caller%s x %d intra-op thread%s",
        callers,
        callers == 1 ? "" : "s",
        intraOpThreads,
        intraOpThreads == 1 ? "" : "s");
  }

  /**
   * Runs every caller continuously, lets them settle for {@code rampUp}, measures through {@code
   * window}, then stops them (their calls in flight finish first).
   */
  Sample sample(Duration rampUp, Duration window) throws InterruptedException {
    AtomicBoolean stop = new AtomicBoolean();
    List<Future<List<Call>>> running = new ArrayList<>();
    for (int c = 0; c < callers; c++) {
      FloatBuffer x = inputs.get(c);
      running.add(
          threads.submit(
              () -> {
                List<Call> calls = new ArrayList<>();
                while (!stop.get()) {
                  long t0 = System.nanoTime();
                  call(x);
                  calls.add(new Call(t0, System.nanoTime()));
                }
                return calls;
              }));
    }
    long from = System.nanoTime() + rampUp.toNanos();
    long to = from + window.toNanos();
    TimeUnit.NANOSECONDS.sleep(to - System.nanoTime());
    stop.set(true);
    double tokensInWindow = 0;
    List<Double> callMs = new ArrayList<>();
    for (Future<List<Call>> r : running) {
      List<Call> calls;
      try {
        calls = r.get();
      } catch (ExecutionException e) {
        throw new IllegalStateException("a bare analyze call failed", e.getCause());
      }
      for (Call call : calls) {
        long inside = Math.min(call.end(), to) - Math.max(call.start(), from);
        if (inside > 0) {
          tokensInWindow += (double) tokens * inside / (call.end() - call.start());
        }
        if (call.end() > from && call.end() <= to) {
          callMs.add((call.end() - call.start()) / 1e6);
        }
      }
    }
    return new Sample(tokensInWindow / (window.toNanos() / 1e9), callMs);
  }

  private void call(FloatBuffer x) {
    long l0 = session.analyze(x, tokens, analysis -> analysis.l0(0));
    if (l0 <= 0 || l0 > k) {
      throw new IllegalStateException("bare analyze graph gave l0 " + l0 + " for token 0");
    }
  }

  /** Closes the session (its copy of the weights) and stops the caller threads. Idempotent. */
  @Override
  public void close() {
    threads.shutdownNow();
    session.close();
    engine.close();
  }
}
