package io.saestream.streams.it;

import io.saestream.sae.checkpoint.FloatTensor;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;
import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.Dtype;
import io.saestream.streams.testing.ActivationBatches;
import io.saestream.streams.testing.SaeStreamCluster;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * SAEs and traffic for the monitoring ITs, where the test decides exactly which latent fires and
 * how badly the SAE reconstructs. The SAE is a standard (ReLU) SAE with d_in = d_sae = {@value #D},
 * W_enc = scale·I, W_dec = I/scale and zero biases: latent j is ReLU(scale·x_j) and a token is
 * reconstructed exactly when no component is negative. So a normal token (positive on dims 0–3,
 * zero elsewhere) fires latents 0–3 with FVU 0; a burst token also fires latent {@value
 * #BURST_LATENT}; a drifted token has negative dims 6 and 7, which the SAE cannot reconstruct (FVU
 * far above 1).
 */
final class MonitoringFixtures {

  /** Width of the SAE. */
  static final int D = 8;

  /** Tokens per batch. */
  static final int TOKENS = 8;

  /** The latent of the injected burst. */
  static final int BURST_LATENT = 5;

  /** Activation of the burst latent on burst tokens. */
  static final float BURST_VALUE = 6f;

  private MonitoringFixtures() {}

  /** Writes the identity-like SAE with latents scaled by {@code scale} to {@code dir}. */
  static Path identitySae(Path dir, float scale) {
    float[] enc = new float[D * D];
    float[] dec = new float[D * D];
    for (int i = 0; i < D; i++) {
      enc[i * D + i] = scale;
      dec[i * D + i] = 1f / scale;
    }
    return writeSae(dir, "\"architecture\": \"standard\"", D, D, enc, dec);
  }

  /**
   * Writes a float32 sae-lens checkpoint of the fixture model and hook to {@code dir}: zero biases,
   * {@code architecture} the leading fields of its cfg (e.g. {@code "architecture": "topk", "k": 4,
   * ...}), {@code enc} d_in × d_sae and {@code dec} d_sae × d_in, row-major.
   */
  static Path writeSae(Path dir, String architecture, int dIn, int dSae, float[] enc, float[] dec) {
    SaeConfig cfg =
        SaeConfig.parse(
            "{"
                + architecture
                + ", \"d_in\": "
                + dIn
                + ", \"d_sae\": "
                + dSae
                + ", \"dtype\": \"float32\", \"device\": \"cpu\", \"apply_b_dec_to_input\": false,"
                + " \"normalize_activations\": \"none\", \"reshape_activations\": \"none\","
                + " \"metadata\": {\"model_name\": \""
                + ActivationBatches.FIXTURE_MODEL
                + "\", \"hook_name\": \""
                + ActivationBatches.FIXTURE_HOOK
                + "\"}}");
    Map<String, FloatTensor> tensors = new LinkedHashMap<>();
    tensors.put("W_enc", FloatTensor.of(enc, dIn, dSae));
    tensors.put("b_enc", FloatTensor.of(new float[dSae], dSae));
    tensors.put("W_dec", FloatTensor.of(dec, dSae, dIn));
    tensors.put("b_dec", FloatTensor.of(new float[dIn], dIn));
    SaeCheckpoint.of(cfg, tensors).write(dir);
    return dir;
  }

  /** What a batch looks like. */
  enum Kind {
    /** Dims 0–3 positive. */
    NORMAL,
    /** Normal, and tokens 2–5 fire the burst latent with {@link #BURST_VALUE}. */
    BURST,
    /** Normal plus dims 6 and 7 at −2: not reconstructable. */
    DRIFT
  }

  /** One batch of {@link #TOKENS} tokens with token text, of {@code kind}. */
  static ActivationBatch batch(String sequenceId, Kind kind, Random random) {
    ByteBuffer data = ByteBuffer.allocate(TOKENS * D * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    List<String> text = new ArrayList<>();
    for (int t = 0; t < TOKENS; t++) {
      for (int j = 0; j < D; j++) {
        float v = 0f;
        if (j < 4) {
          v = 0.5f + random.nextFloat();
        } else if (j == BURST_LATENT && kind == Kind.BURST && t >= 2 && t <= 5) {
          v = BURST_VALUE;
        } else if (j >= 6 && kind == Kind.DRIFT) {
          v = -2f;
        }
        data.putFloat(v);
      }
      text.add(" tok" + t);
    }
    data.flip();
    return ActivationBatches.builder(
            ActivationBatches.FIXTURE_MODEL, ActivationBatches.FIXTURE_HOOK, sequenceId, TOKENS, D)
        .setDtype(Dtype.F32)
        .setData(data)
        .setTokens(text)
        .build();
  }

  /**
   * The record of {@code batch} at event time {@code timestamp}, keyed by its sequence, to {@code
   * partition} (chosen by the test so that every partition has traffic in every window: the per-SAE
   * watermark waits for each active partition).
   */
  static ProducerRecord<byte[], byte[]> record(
      SaeStreamCluster cluster,
      String topic,
      int partition,
      ActivationBatch batch,
      long timestamp) {
    return new ProducerRecord<>(
        topic,
        partition,
        timestamp,
        batch.getSequenceId().getBytes(java.nio.charset.StandardCharsets.UTF_8),
        cluster.encode(topic, batch));
  }

  /** A recent event time aligned to {@code window}, {@code windowsAgo} windows before now. */
  static long alignedStart(Duration window, int windowsAgo) {
    long w = window.toMillis();
    return Math.floorDiv(System.currentTimeMillis(), w) * w - windowsAgo * w;
  }
}
