/**
 * A known ground truth for sparse autoencoders: {@link io.saestream.synthetic.GroundTruthModel}
 * generates activations as sparse combinations of a fixed dictionary of feature directions in
 * superposition, with Zipf-like frequencies and noise, and scores a learned decoder against that
 * dictionary (mean max cosine similarity). Pure math, deterministic from a seed; no Kafka.
 *
 * <p>Subpackages: {@code sequence} shapes the activations into LLM-like sequences with token texts,
 * {@code incident} schedules bursts and drift, {@code encoding} converts floats to the wire dtypes
 * and reads {@code .npy} recordings, {@code produce} writes records to Kafka, {@code cli} is the
 * {@code produce} command.
 */
package io.saestream.synthetic;
