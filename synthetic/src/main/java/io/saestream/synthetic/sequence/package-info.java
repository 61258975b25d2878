/**
 * LLM-like traffic from a ground-truth model: sequences with ids, lengths, per-sequence topic
 * features and token texts from a synthetic vocabulary, interleaved as a serving fleet would
 * interleave them, with scheduled incidents staged at their times.
 */
package io.saestream.synthetic.sequence;
