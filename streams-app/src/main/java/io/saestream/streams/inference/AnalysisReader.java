package io.saestream.streams.inference;

/**
 * Turns the outputs of one analyze call into a result while they are valid.
 *
 * @param <T> the result type
 */
@FunctionalInterface
public interface AnalysisReader<T> {

  /** Reads {@code analysis}; must not keep a reference to it. */
  T read(SaeAnalysis analysis);
}
