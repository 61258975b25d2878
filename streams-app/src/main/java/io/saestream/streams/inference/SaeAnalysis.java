package io.saestream.streams.inference;

/**
 * The outputs of the analyze graph for one batch of tokens, read in place from ONNX Runtime's
 * output buffers. Valid only inside the {@link AnalysisReader} it is passed to: the buffers are
 * reused by the next call. Not thread-safe.
 */
public interface SaeAnalysis {

  /** N, the number of tokens. */
  int tokens();

  /** K, the number of (index, value) slots per token. */
  int slots();

  /** The latent index in slot {@code slot} of token {@code token}, or −1 for an unused slot. */
  long index(int token, int slot);

  /** The activation in slot {@code slot} of token {@code token} (0 for an unused slot). */
  float value(int token, int slot);

  /** {@code ‖x − x̂‖²} of token {@code token}. */
  float sse(int token);

  /** {@code sse / ‖x‖²} of token {@code token}. */
  float relativeError(int token);

  /** Cosine similarity of {@code x} and {@code x̂} of token {@code token}. */
  float cosine(int token);

  /** Number of firing latents of token {@code token}, including those beyond K. */
  long l0(int token);

  /** Firing latents of token {@code token} that did not fit in the K slots. */
  long dropped(int token);
}
