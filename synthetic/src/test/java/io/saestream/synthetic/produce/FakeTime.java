package io.saestream.synthetic.produce;

import java.util.concurrent.CountDownLatch;

/** Time that passes only when the producer waits: every wait advances it by the full amount. */
final class FakeTime implements TimeSource {

  private long nanos = 1_000_000_000L;
  private long waited;

  @Override
  public synchronized long nanoTime() {
    return nanos;
  }

  @Override
  public synchronized void await(CountDownLatch stop, long waitNanos) {
    if (waitNanos <= 0) {
      throw new AssertionError("asked to wait " + waitNanos + " ns");
    }
    nanos += waitNanos;
    waited += waitNanos;
  }

  synchronized long waitedNanos() {
    return waited;
  }

  synchronized void advance(long byNanos) {
    nanos += byNanos;
  }
}
