/**
 * Writing {@code ActivationBatch} records to Kafka: record sources (generated or replayed), the
 * record template, and an idempotent, paced, cleanly stoppable producer.
 */
package io.saestream.synthetic.produce;
