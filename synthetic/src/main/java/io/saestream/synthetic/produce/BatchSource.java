package io.saestream.synthetic.produce;

import io.saestream.schema.v1.ActivationBatch;
import org.jspecify.annotations.Nullable;

/**
 * Where a {@link SyntheticProducer} gets its records. Called from one thread; a source owns what it
 * reads from and releases it on {@link #close()}.
 */
public interface BatchSource extends AutoCloseable {

  /** The next record, or null once the source is exhausted. */
  @Nullable ActivationBatch next();

  /** Releases what the source holds; the default holds nothing. */
  @Override
  default void close() {}
}
