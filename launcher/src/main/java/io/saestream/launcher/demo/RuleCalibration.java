package io.saestream.launcher.demo;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The alert-rule parameters derived from one SAE version and the {@link CalibrationTraffic}: which
 * latent carries the burst feature and from which activation on, and the version's FVU on normal
 * and on drifted traffic. The SAE's latents are not the generator's features, and every published
 * version learns its own basis, so the demo measures this for each version it serves instead of
 * naming a latent up front.
 *
 * <p>The burst rule fires when at least {@code minTokens} tokens of one sequence reach the
 * activation. So a latent is judged by two levels: the {@code 2·minTokens}-th strongest activation
 * within a burst (the weakest burst), which the rule must stay under with a margin of tokens, and
 * the {@code minTokens}-th strongest within a normal sequence (the worst sequence), which it must
 * stay above. The chosen latent is the one with the widest gap.
 *
 * @param version the SAE version measured
 * @param burstLatent the latent chosen for the burst rule
 * @param burstActivation that latent's burst level (see above)
 * @param quietActivation that latent's normal-traffic level (see above)
 * @param baselineFvu token-weighted mean FVU of the normal batches
 * @param driftFvu token-weighted mean FVU of the drifted batches
 */
record RuleCalibration(
    long version,
    int burstLatent,
    double burstActivation,
    double quietActivation,
    double baselineFvu,
    double driftFvu) {

  /**
   * Share of the way from the baseline to the drifted FVU at which the drift rule fires: a window
   * must be about a quarter drifted (a window's FVU is the token-weighted mean of its batches').
   */
  static final double DRIFT_FRACTION = 0.25;

  /**
   * Floor of the drift threshold relative to the baseline: a window holds thousands of tokens, so
   * its mean FVU varies by a few percent at most, and a version that learned the drift direction
   * must not bring the threshold down into that noise.
   */
  static final double DRIFT_FLOOR = 1.5;

  /** Validates the fields. */
  RuleCalibration {
    if (version < 0) {
      throw new IllegalArgumentException("version must be >= 0, was " + version);
    }
    if (burstLatent < 0) {
      throw new IllegalArgumentException("burst latent must be >= 0, was " + burstLatent);
    }
    if (!(baselineFvu >= 0)
        || !(driftFvu >= 0)
        || Double.isInfinite(baselineFvu)
        || Double.isInfinite(driftFvu)) {
      throw new IllegalArgumentException(
          "FVUs must be finite and >= 0, were " + baselineFvu + " and " + driftFvu);
    }
  }

  /**
   * Runs {@code traffic} through {@code sae} (version {@code version}) for a rule that needs {@code
   * minTokens} tokens of one sequence.
   *
   * @throws IllegalArgumentException when the SAE's d_in differs from the traffic's, or {@code
   *     2·minTokens} exceeds the burst's tokens
   * @throws IllegalStateException when no latent fires on the bursts at all
   */
  static RuleCalibration measure(
      TopKSae sae, long version, CalibrationTraffic traffic, int minTokens) {
    if (sae.dIn() != traffic.dIn()) {
      throw new IllegalArgumentException(
          "SAE v" + version + " has d_in " + sae.dIn() + ", the traffic " + traffic.dIn());
    }
    int burstTokens = traffic.burst().tokens();
    if (minTokens < 1 || 2 * minTokens > burstTokens) {
      throw new IllegalArgumentException(
          "min tokens must be in [1, " + burstTokens / 2 + "], was " + minTokens);
    }
    int dSae = sae.dSae();
    float[] acts = new float[dSae];
    Map<String, float[][]> strongest = new HashMap<>();
    double baseline =
        meanFvu(
            sae,
            traffic.normal(),
            acts,
            (sequence, a) -> {
              float[][] top = strongest.computeIfAbsent(sequence, id -> new float[dSae][minTokens]);
              for (int j = 0; j < dSae; j++) {
                if (a[j] > top[j][minTokens - 1]) {
                  insertDescending(top[j], a[j]);
                }
              }
            });
    double drift = meanFvu(sae, traffic.drifted(), acts, (sequence, a) -> {});
    float[] quiet = new float[dSae];
    for (float[][] top : strongest.values()) {
      for (int j = 0; j < dSae; j++) {
        quiet[j] = Math.max(quiet[j], top[j][minTokens - 1]);
      }
    }
    float[] burst = new float[dSae];
    Arrays.fill(burst, Float.POSITIVE_INFINITY);
    for (CalibrationTraffic.Batch b : traffic.bursts()) {
      float[][] top = new float[dSae][2 * minTokens];
      for (int t = 0; t < b.tokens(); t++) {
        sae.encode(b.data(), t, acts);
        for (int j = 0; j < dSae; j++) {
          if (acts[j] > top[j][2 * minTokens - 1]) {
            insertDescending(top[j], acts[j]);
          }
        }
      }
      for (int j = 0; j < dSae; j++) {
        burst[j] = Math.min(burst[j], top[j][2 * minTokens - 1]);
      }
    }
    int best = -1;
    for (int j = 0; j < dSae; j++) {
      if (burst[j] > 0 && (best < 0 || burst[j] - quiet[j] > burst[best] - quiet[best])) {
        best = j;
      }
    }
    if (best < 0) {
      throw new IllegalStateException(
          "no latent of SAE v"
              + version
              + " fires on "
              + 2 * minTokens
              + " tokens of every burst of feature "
              + traffic.burst().feature());
    }
    return new RuleCalibration(version, best, burst[best], quiet[best], baseline, drift);
  }

  /** Inserts {@code v} into {@code top} (descending), dropping the smallest. */
  private static void insertDescending(float[] top, float v) {
    int i = top.length - 1;
    while (i > 0 && top[i - 1] < v) {
      top[i] = top[i - 1];
      i--;
    }
    top[i] = v;
  }

  /** What the FVU pass hands over per token: its sequence and its latent activations. */
  private interface TokenSink {
    void accept(String sequenceId, float[] acts);
  }

  private static double meanFvu(
      TopKSae sae, List<CalibrationTraffic.Batch> batches, float[] acts, TokenSink sink) {
    int dIn = sae.dIn();
    double weighted = 0;
    long tokens = 0;
    for (CalibrationTraffic.Batch b : batches) {
      float[] x = b.data();
      int n = b.tokens();
      double[] mean = new double[dIn];
      for (int t = 0; t < n; t++) {
        for (int i = 0; i < dIn; i++) {
          mean[i] += x[t * dIn + i];
        }
      }
      double sse = 0;
      double variance = 0;
      for (int t = 0; t < n; t++) {
        sse += sae.squaredError(x, t, acts);
        sink.accept(b.sequenceId(), acts);
        for (int i = 0; i < dIn; i++) {
          double d = x[t * dIn + i] - mean[i] / n;
          variance += d * d;
        }
      }
      // As the streams app: a batch without variance has no FVU and no weight in the mean.
      if (variance > 0) {
        weighted += n * (sse / variance);
        tokens += n;
      }
    }
    if (tokens == 0) {
      throw new IllegalArgumentException("no calibration batch has any variance");
    }
    return weighted / tokens;
  }

  /** Whether the burst level of the latent lies above its normal-traffic level. */
  boolean burstSeparated() {
    return burstActivation > quietActivation;
  }

  /**
   * The latent-threshold rule's activation: halfway between the two levels when they separate, else
   * the burst level itself (the rule may then also fire on normal traffic; the demo says so).
   */
  double burstMinActivation() {
    return burstSeparated() ? (burstActivation + quietActivation) / 2 : burstActivation;
  }

  /**
   * The drift rule's FVU threshold while this version is served after {@code previous} (null for
   * the first): above both versions' baselines, since a window that spans the swap mixes them, and
   * {@link #DRIFT_FRACTION} of the way to this version's drifted FVU, but never below {@link
   * #DRIFT_FLOOR} times the higher baseline.
   */
  double driftThreshold(@Nullable RuleCalibration previous) {
    double baseline =
        previous == null ? baselineFvu : Math.max(baselineFvu, previous.baselineFvu());
    return Math.max(
        DRIFT_FLOOR * baseline, baseline + DRIFT_FRACTION * Math.max(0, driftFvu - baseline));
  }

  /** One line for the console. */
  String describe(@Nullable RuleCalibration previous) {
    return String.format(
        Locale.ROOT,
        "v%d: burst -> latent %d (bursts reach %.2f, normal sequences %.2f%s; alert at >= %.2f);"
            + " FVU %.3f normal, %.3f drifted; drift alert above %.3f",
        version,
        burstLatent,
        burstActivation,
        quietActivation,
        burstSeparated() ? "" : ", NOT separated",
        burstMinActivation(),
        baselineFvu,
        driftFvu,
        driftThreshold(previous));
  }
}
