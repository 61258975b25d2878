package io.saestream.synthetic.produce;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Monotonic time and waiting for a {@link SyntheticProducer}; tests substitute a fake. */
interface TimeSource {

  /** The system's monotonic clock and real waits that end early when the producer is stopped. */
  TimeSource SYSTEM =
      new TimeSource() {
        @Override
        public long nanoTime() {
          return System.nanoTime();
        }

        @Override
        public void await(CountDownLatch stop, long nanos) throws InterruptedException {
          // Whether it ended early does not matter: the caller checks the stop flag and the time.
          stop.await(nanos, TimeUnit.NANOSECONDS);
        }
      };

  /** Nanoseconds from an arbitrary origin, never decreasing. */
  long nanoTime();

  /** Waits up to {@code nanos}, or less once {@code stop} is released. */
  void await(CountDownLatch stop, long nanos) throws InterruptedException;
}
