package io.saestream.sae.cli;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns SIGINT (Ctrl-C) and SIGTERM into a stop request instead of the JVM's shutdown sequence.
 *
 * <p>Why: ONNX Runtime registers a shutdown hook that releases its native environment, and the JVM
 * runs all shutdown hooks at once. A process whose own hook still has to stop threads that run
 * sessions (the streams app's inference, the trainer's step) then races the release and can abort
 * inside native code. Handling the signal instead keeps the JVM as it is until everything is closed
 * in order; the process then exits normally, and ONNX Runtime's hook finds nothing running. The
 * first signal asks for the stop and puts the JVM's own handlers back, so that a second Ctrl-C ends
 * the process at once.
 *
 * <p>Uses {@code sun.misc.Signal}, through reflection: it is exported by {@code jdk.unsupported} in
 * every JDK since 9, but javac warns on direct use and this build treats warnings as errors. Where
 * a signal cannot be handled (the JVM runs with {@code -Xrs}, or the shell ignores SIGINT for a
 * background job) it is left alone; {@link #handled()} says which are.
 *
 * <p>Lifetime: from {@link #install} to {@link #close()}, which puts the previous handlers back.
 * Thread-safe: the callback runs on the JVM's signal thread.
 */
public final class SignalStop implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SignalStop.class);
  private static final List<String> SIGNALS = List.of("INT", "TERM");

  private final List<Installed> installed = new ArrayList<>();
  private final @Nullable Method handle;

  /** A handled signal and the handler it had before. */
  private record Installed(String name, Object signal, Object previous) {}

  private SignalStop(@Nullable Method handle) {
    this.handle = handle;
  }

  /**
   * Routes SIGINT and SIGTERM to {@code onSignal} (called with {@code "SIGINT"} or {@code
   * "SIGTERM"}); a JVM without {@code sun.misc.Signal} gets an instance that handles nothing.
   */
  public static SignalStop install(Consumer<String> onSignal) {
    Objects.requireNonNull(onSignal, "onSignal");
    Class<?> signalClass;
    Class<?> handlerClass;
    Constructor<?> create;
    Method handle;
    try {
      signalClass = Class.forName("sun.misc.Signal");
      handlerClass = Class.forName("sun.misc.SignalHandler");
      create = signalClass.getConstructor(String.class);
      handle = signalClass.getMethod("handle", signalClass, handlerClass);
    } catch (ReflectiveOperationException | LinkageError e) {
      LOG.debug("sun.misc.Signal is not available; Ctrl-C goes through the shutdown hook", e);
      return new SignalStop(null);
    }
    SignalStop stop = new SignalStop(handle);
    for (String name : SIGNALS) {
      try {
        Object signal = create.newInstance(name);
        Object[] previous = new Object[1];
        InvocationHandler body =
            (proxy, method, args) ->
                switch (method.getName()) {
                  case "handle" -> {
                    // Back to the JVM's handler first: a second signal must not be swallowed.
                    stop.restore(signal, previous[0]);
                    onSignal.accept("SIG" + name);
                    yield null;
                  }
                  case "equals" -> proxy == args[0];
                  case "hashCode" -> System.identityHashCode(proxy);
                  case "toString" -> "sae-stream stop on SIG" + name;
                  default -> throw new UnsupportedOperationException(method.getName());
                };
        Object handler =
            Proxy.newProxyInstance(
                SignalStop.class.getClassLoader(), new Class<?>[] {handlerClass}, body);
        previous[0] = handle.invoke(null, signal, handler);
        stop.installed.add(new Installed(name, signal, previous[0]));
      } catch (InvocationTargetException e) {
        // IllegalArgumentException: the signal is reserved (-Xrs) or ignored by the OS.
        LOG.debug("SIG{} stays with the JVM: {}", name, String.valueOf(e.getCause()));
      } catch (ReflectiveOperationException e) {
        LOG.debug("SIG{} stays with the JVM", name, e);
      }
    }
    return stop;
  }

  /** The signals routed to the callback, e.g. {@code [INT, TERM]}. */
  public synchronized List<String> handled() {
    return installed.stream().map(Installed::name).toList();
  }

  private synchronized void restore(Object signal, Object previous) {
    if (installed.removeIf(i -> i.signal() == signal)) {
      invoke(signal, previous);
    }
  }

  private void invoke(Object signal, Object previous) {
    Method h = handle;
    if (h == null) {
      return;
    }
    try {
      h.invoke(null, signal, previous);
    } catch (ReflectiveOperationException e) {
      LOG.warn("Cannot restore the JVM's handler of {}", signal, e);
    }
  }

  /** Puts the previous handlers back. */
  @Override
  public synchronized void close() {
    for (Installed i : installed) {
      invoke(i.signal(), i.previous());
    }
    installed.clear();
  }
}
