package io.saestream.streams.metrics;

/**
 * The names and tag keys of sae-stream's own meters, as registered in Micrometer (dotted); the
 * Prometheus exposition turns dots into underscores and adds {@code _total} to counters and the
 * base unit to timed gauges. {@code streams-app/docs/metrics.md} lists them with their Prometheus
 * names; they are a public interface (dashboards and alerts depend on them), so renaming one is a
 * breaking change.
 */
public final class MeterNames {

  /** Counter: tokens of accepted batches. Prometheus {@code sae_tokens_processed_total}. */
  public static final String TOKENS_PROCESSED = "sae.tokens.processed";

  /** Counter: accepted batches. Prometheus {@code sae_batches_processed_total}. */
  public static final String BATCHES_PROCESSED = "sae.batches.processed";

  /** Counter by {@link #REASON_TAG}: dead letters. Prometheus {@code sae_dead_letters_total}. */
  public static final String DEAD_LETTERS = "sae.dead.letters";

  /**
   * Counter by {@link #SAE_TAG}: analyzed batches. Prometheus {@code sae_inference_calls_total}.
   */
  public static final String INFERENCE_CALLS = "sae.inference.calls";

  /** Gauge by {@link #SAE_TAG}. Prometheus {@code sae_inference_latency_avg_seconds}. */
  public static final String INFERENCE_LATENCY_AVG = "sae.inference.latency.avg";

  /** Gauge by {@link #SAE_TAG}. Prometheus {@code sae_inference_latency_max_seconds}. */
  public static final String INFERENCE_LATENCY_MAX = "sae.inference.latency.max";

  /** Gauge: the input consumers' largest lag. Prometheus {@code sae_consumer_records_lag_max}. */
  public static final String CONSUMER_LAG_MAX = "sae.consumer.records.lag.max";

  /**
   * Gauge by {@link #SAE_TAG}, model and hook: version served. Prometheus {@code
   * sae_model_version}.
   */
  public static final String MODEL_VERSION = "sae.model.version";

  /** Counter by {@link #SAE_TAG}: hot swaps. Prometheus {@code sae_checkpoint_swaps_total}. */
  public static final String CHECKPOINT_SWAPS = "sae.checkpoint.swaps";

  /** Counter by {@link #REASON_TAG}. Prometheus {@code sae_checkpoint_rejected_total}. */
  public static final String CHECKPOINT_REJECTED = "sae.checkpoint.rejected";

  /** Tag: the SAE id. */
  public static final String SAE_TAG = "sae_id";

  /** Tag: the model id of an SAE's hook. */
  public static final String MODEL_TAG = "model_id";

  /** Tag: the hook name of an SAE's hook. */
  public static final String HOOK_TAG = "hook_name";

  /** Tag: a dead-letter or checkpoint-rejection reason, in its metric spelling. */
  public static final String REASON_TAG = "reason";

  private MeterNames() {}
}
