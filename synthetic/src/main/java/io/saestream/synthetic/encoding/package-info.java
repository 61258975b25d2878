/**
 * Activation bytes: F32/F16/BF16 little-endian encoding of {@code ActivationBatch.data}, and
 * reading recorded activations from NumPy {@code .npy} files for replay.
 */
package io.saestream.synthetic.encoding;
