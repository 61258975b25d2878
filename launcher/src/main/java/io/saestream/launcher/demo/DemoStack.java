package io.saestream.launcher.demo;

import io.saestream.embedded.kafka.EmbeddedKafkaBroker;
import io.saestream.embedded.registry.EmbeddedSchemaRegistry;
import io.saestream.streams.StreamsApp;
import io.saestream.synthetic.produce.BatchSource;
import io.saestream.synthetic.produce.ProduceLimits;
import io.saestream.synthetic.produce.ProduceSummary;
import io.saestream.synthetic.produce.SyntheticProducer;
import io.saestream.trainer.app.TrainerApp;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The components of one demo run, adopted as they start, and their ordered, bounded shutdown.
 *
 * <p>Why the order matters: the streams app and the trainer run ONNX Runtime on their own threads.
 * Closing a session under a running step, or letting the JVM exit (which unloads the native
 * library) while a thread is still inside it, aborts the process. So {@link #stop} first stops the
 * producer, lets the streams app process what was produced (so that nothing is lost), closes the
 * app (which joins its stream threads before closing its sessions) and joins the trainer's loop
 * before closing the trainer; the broker and the registry go last. Every wait is bounded by the
 * budget; a component that does not stop in time is left open (and logged) rather than closed under
 * a running native call.
 *
 * <p>Owned by the demo's main thread, which adopts components and calls {@link #stop} once. The
 * worker threads only report their failure ({@link #failure()} is thread-safe).
 */
final class DemoStack {

  private static final Logger LOG = LoggerFactory.getLogger(DemoStack.class);

  /** Longest wait for the producer to flush and return. */
  private static final Duration PRODUCER_STOP = Duration.ofSeconds(2);

  /** Longest wait for the streams app to process what was produced. */
  private static final Duration DRAIN = Duration.ofSeconds(3);

  /** Budget kept back for the app, the trainer, the broker and the registry. */
  private static final Duration CLOSE_RESERVE = Duration.ofSeconds(4);

  private final AtomicReference<@Nullable Throwable> failure = new AtomicReference<>();
  private final AtomicReference<@Nullable ProduceSummary> produced = new AtomicReference<>();
  private @Nullable EmbeddedKafkaBroker broker;
  private @Nullable EmbeddedSchemaRegistry registry;
  private @Nullable StreamsApp app;
  private @Nullable DemoRules rules;
  private @Nullable DemoProgress progress;
  private @Nullable SyntheticProducer producer;
  private @Nullable Thread producerThread;
  private @Nullable TrainerApp trainer;
  private @Nullable Thread trainerThread;

  EmbeddedKafkaBroker adopt(EmbeddedKafkaBroker b) {
    this.broker = b;
    return b;
  }

  EmbeddedSchemaRegistry adopt(EmbeddedSchemaRegistry r) {
    this.registry = r;
    return r;
  }

  StreamsApp adopt(StreamsApp a) {
    this.app = a;
    return a;
  }

  DemoRules adopt(DemoRules r) {
    this.rules = r;
    return r;
  }

  DemoProgress adopt(DemoProgress p) {
    this.progress = p;
    return p;
  }

  /** Adopts {@code p} and runs it on its own thread until {@link #stop}. */
  void runProducer(SyntheticProducer p, BatchSource source, ProduceLimits limits) {
    this.producer = p;
    this.producerThread =
        start("sae-stream-demo-producer", () -> produced.set(p.run(source, limits)));
  }

  /** Adopts {@code t} and runs its loop on its own thread until {@link #stop}. */
  void runTrainer(TrainerApp t) {
    this.trainer = t;
    this.trainerThread = start("sae-stream-demo-trainer", t::run);
  }

  private Thread start(String name, Runnable body) {
    Thread t =
        new Thread(
            () -> {
              try {
                body.run();
              } catch (RuntimeException e) {
                LOG.error("{} failed", name, e);
                failure.compareAndSet(null, e);
              }
            },
            name);
    // Not a daemon: the JVM must not exit while it may be inside ONNX Runtime.
    t.start();
    return t;
  }

  /** The first failure of the producer or trainer thread, or null. */
  @Nullable Throwable failure() {
    return failure.get();
  }

  /**
   * Stops everything in order within about {@code budget} and says what happened to the produced
   * batches. Idempotent in effect: call once.
   */
  DemoReport.Batches stop(Duration budget) {
    long deadline = System.nanoTime() + budget.toNanos();
    long started = System.nanoTime();
    SyntheticProducer p = producer;
    TrainerApp t = trainer;
    // Both only raise a flag: the trainer's last publication overlaps the producer's flush.
    if (p != null) {
      p.stop();
    }
    if (t != null) {
      t.shutdown();
    }
    boolean producerStopped = join(producerThread, min(PRODUCER_STOP, deadline, Duration.ZERO));
    ProduceSummary summary = produced.get();
    long producedBatches = summary == null ? 0 : summary.records();
    if (!producerStopped) {
      LOG.warn("The producer did not stop within {}", PRODUCER_STOP);
    }
    drain(producedBatches, min(DRAIN, deadline, CLOSE_RESERVE));
    StreamsApp a = app;
    if (a != null) {
      // Joins the stream threads (up to streams.shutdown-timeout), then closes their sessions.
      closeQuietly("the streams app", a::close);
    }
    if (t != null) {
      if (join(trainerThread, min(Duration.ofSeconds(3), deadline, Duration.ofSeconds(1)))) {
        closeQuietly("the trainer", t::close);
      } else {
        LOG.error(
            "The trainer's loop did not stop in time; leaving its ONNX Runtime sessions open"
                + " rather than closing them under a running step");
      }
    }
    // The app's clean close committed its last transaction; let the reader see it.
    drain(producedBatches, min(Duration.ofMillis(500), deadline, Duration.ofMillis(1500)));
    DemoProgress pr = progress;
    DemoReport.Batches batches =
        new DemoReport.Batches(
            producedBatches, pr == null ? 0 : pr.processed(), pr == null ? 0 : pr.deadLetters());
    if (pr != null) {
      pr.close(Duration.ofMillis(500));
    }
    if (p != null && producerStopped) {
      closeQuietly("the producer", p::close);
    }
    DemoRules r = rules;
    if (r != null) {
      closeQuietly("the rules publisher", r::close);
    }
    EmbeddedSchemaRegistry sr = registry;
    if (sr != null) {
      closeQuietly("the schema registry", sr::close);
    }
    EmbeddedKafkaBroker b = broker;
    if (b != null) {
      closeQuietly("the broker", b::close);
    }
    LOG.info("Demo stopped in {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    return batches;
  }

  /** Waits until the progress reader accounts for {@code produced} batches, up to {@code wait}. */
  private void drain(long producedBatches, Duration wait) {
    DemoProgress pr = progress;
    if (pr == null) {
      return;
    }
    long until = System.nanoTime() + wait.toNanos();
    while (pr.processed() + pr.deadLetters() < producedBatches && System.nanoTime() < until) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** {@code cap}, or less so that {@code reserve} of the budget is left at {@code deadline}. */
  private static Duration min(Duration cap, long deadline, Duration reserve) {
    long left = deadline - System.nanoTime() - reserve.toNanos();
    return Duration.ofNanos(Math.max(0, Math.min(cap.toNanos(), left)));
  }

  private static boolean join(@Nullable Thread t, Duration wait) {
    if (t == null) {
      return true;
    }
    try {
      t.join(Math.max(1, wait.toMillis()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return !t.isAlive();
  }

  /** A close step; its failure is logged and the shutdown goes on: the next steps still matter. */
  private interface Step {
    void run() throws Exception;
  }

  private void closeQuietly(String what, Step step) {
    long t0 = System.nanoTime();
    try {
      step.run();
      LOG.debug("Closed {} in {} ms", what, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    } catch (Exception e) {
      LOG.warn("Closing {} failed", what, e);
    }
  }
}
