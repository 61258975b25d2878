package io.saestream.synthetic.sequence;

import io.saestream.synthetic.GroundTruthModel;
import io.saestream.synthetic.incident.DriftEpisode;
import io.saestream.synthetic.incident.IncidentSchedule;
import io.saestream.synthetic.incident.LatentBurst;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a {@link GroundTruthModel} into a stream of LLM-like traffic: sequences with ids, lengths
 * and token texts, each with a few topic features that fire more often within it (so consecutive
 * tokens are correlated and a trainer needs a mixing buffer), several sequences in progress at once
 * with their batches interleaved, and the incidents of an {@link IncidentSchedule} staged at their
 * times.
 *
 * <p>Time comes from the injected {@link Clock}, read once per {@link #next()}; incident times
 * count from the clock's reading at construction. The output is a pure function of the model,
 * config, schedule, seed and the sequence of clock readings, so tests drive incidents with a fake
 * clock. Each sequence draws from its own random stream, so its content does not depend on how it
 * interleaves with others (unless an incident touches it).
 *
 * <p>Not thread-safe: one producer thread calls {@link #next()}.
 */
public final class SequenceGenerator {

  private static final Logger LOG = LoggerFactory.getLogger(SequenceGenerator.class);
  private static final long DRIFT_SEED_SALT = 0x5DEECE66DL;
  private static final long SEQUENCE_SEED_SALT = 0x9E3779B97F4A7C15L;

  private final GroundTruthModel model;
  private final SequenceConfig config;
  private final Vocabulary vocabulary;
  private final Clock clock;
  private final Instant start;
  private final SplittableRandom master;
  private final SplittableRandom scheduler;
  private final Deque<LatentBurst> pendingBursts;
  private final List<DriftEpisode> drifts;
  private final float[][] driftDirections;
  private final boolean[] driftStarted;
  private final boolean[] driftEnded;
  private final double signalRms;
  private final ActiveSequence[] slots; // null entries are free slots
  private long sequencesStarted;

  /**
   * A generator whose clock starts now.
   *
   * @throws IllegalArgumentException if a burst targets a feature the model lacks
   */
  public SequenceGenerator(
      GroundTruthModel model,
      SequenceConfig config,
      IncidentSchedule incidents,
      Clock clock,
      long seed) {
    this.model = Objects.requireNonNull(model, "model");
    this.config = Objects.requireNonNull(config, "config");
    Objects.requireNonNull(incidents, "incidents");
    this.clock = Objects.requireNonNull(clock, "clock");
    incidents.requireFeaturesBelow(model.features());
    this.vocabulary = new Vocabulary(model.features(), config.triggerWordsPerFeature());
    this.start = clock.instant();
    // Salted so that passing the model's own seed does not replay the model's random stream.
    this.master = new SplittableRandom(seed ^ SEQUENCE_SEED_SALT);
    this.scheduler = master.split();
    this.pendingBursts = new ArrayDeque<>(incidents.bursts());
    this.drifts = incidents.drifts();
    this.driftDirections = new float[drifts.size()][];
    for (int i = 0; i < drifts.size(); i++) {
      driftDirections[i] =
          unitVector(new SplittableRandom(seed ^ (DRIFT_SEED_SALT * (i + 1))), model.dIn());
    }
    this.driftStarted = new boolean[drifts.size()];
    this.driftEnded = new boolean[drifts.size()];
    this.signalRms = Math.sqrt(model.expectedSignalPower());
    this.slots = new ActiveSequence[config.concurrentSequences()];
  }

  /** The model the activations come from. */
  public GroundTruthModel model() {
    return model;
  }

  /** The configuration. */
  public SequenceConfig config() {
    return config;
  }

  /** The vocabulary of the token texts. */
  public Vocabulary vocabulary() {
    return vocabulary;
  }

  /** A copy of the unit direction that drift episode {@code index} (in start order) adds. */
  public float[] driftDirection(int index) {
    Objects.checkIndex(index, driftDirections.length);
    return driftDirections[index].clone();
  }

  /** How many sequences have been started so far. */
  public long sequencesStarted() {
    return sequencesStarted;
  }

  /** The next batch: the following tokens of one of the sequences in progress. */
  public GeneratedBatch next() {
    Instant now = clock.instant();
    Duration elapsed = Duration.between(start, now);
    if (elapsed.isNegative()) {
      elapsed = Duration.ZERO; // a clock stepped back: incidents are not replayed
    }
    int slot = scheduler.nextInt(slots.length);
    ActiveSequence sequence = slots[slot];
    if (sequence == null) {
      sequence = startSequence();
      slots[slot] = sequence;
    }
    LatentBurst due = pendingBursts.peekFirst();
    if (due != null && elapsed.compareTo(due.at()) >= 0 && !sequence.burstInProgress()) {
      pendingBursts.removeFirst();
      sequence.assign(due);
      LOG.info(
          "Incident {}: feature {} bursts in sequence {} at positions {}..{}",
          due.spec(),
          due.feature(),
          sequence.id,
          sequence.burstStart,
          sequence.burstStart + due.tokens() - 1);
    }
    int[] activeDrifts = activeDrifts(elapsed);
    GeneratedBatch batch = sequence.emit(activeDrifts, now);
    if (batch.lastInSequence()) {
      slots[slot] = null;
    }
    return batch;
  }

  private int[] activeDrifts(Duration elapsed) {
    int[] active = new int[drifts.size()];
    int count = 0;
    for (int i = 0; i < drifts.size(); i++) {
      DriftEpisode drift = drifts.get(i);
      if (drift.activeAt(elapsed)) {
        active[count++] = i;
        if (!driftStarted[i]) {
          driftStarted[i] = true;
          LOG.info("Incident {}: drift begins", drift.spec());
        }
      } else if (driftStarted[i] && !driftEnded[i]) {
        driftEnded[i] = true;
        LOG.info("Incident {}: drift ends", drift.spec());
      }
    }
    return Arrays.copyOf(active, count);
  }

  private ActiveSequence startSequence() {
    SplittableRandom rng = master.split();
    int length = config.minLength();
    double extra = config.meanLength() - config.minLength();
    if (extra > 0) {
      // Geometric number of extra tokens with mean `extra`: failures before a success of
      // 1/(extra+1).
      double logMiss = Math.log1p(-1.0 / (extra + 1.0));
      double geometric = Math.floor(Math.log1p(-rng.nextDouble()) / logMiss);
      length = (int) Math.min(config.maxLength(), config.minLength() + geometric);
    }
    int topicCount = Math.min(config.topicsPerSequence(), model.features());
    int[] topics = new int[topicCount];
    for (int drawn = 0; drawn < topicCount; ) {
      int candidate = rng.nextInt(model.features());
      if (!contains(topics, drawn, candidate)) {
        topics[drawn++] = candidate;
      }
    }
    Arrays.sort(topics);
    String id = config.sequenceIdPrefix() + sequencesStarted;
    sequencesStarted++;
    return new ActiveSequence(id, length, topics, rng);
  }

  private static float[] unitVector(SplittableRandom rng, int d) {
    double[] v = new double[d];
    double norm2 = 0;
    while (!(norm2 > 1e-12)) {
      norm2 = 0;
      for (int j = 0; j < d; j++) {
        v[j] = rng.nextGaussian();
        norm2 += v[j] * v[j];
      }
    }
    float[] out = new float[d];
    double inv = 1.0 / Math.sqrt(norm2);
    for (int j = 0; j < d; j++) {
      out[j] = (float) (v[j] * inv);
    }
    return out;
  }

  /** A sequence in progress: its own random stream, topics, length and position. */
  private final class ActiveSequence {
    final String id;
    final int[] topics;
    final SplittableRandom rng;
    int length;
    int position;
    @Nullable LatentBurst burst;
    int burstStart;

    ActiveSequence(String id, int length, int[] topics, SplittableRandom rng) {
      this.id = id;
      this.length = length;
      this.topics = topics;
      this.rng = rng;
    }

    boolean burstInProgress() {
      LatentBurst b = burst;
      return b != null && position < burstStart + b.tokens();
    }

    void assign(LatentBurst b) {
      burst = b;
      burstStart = position;
      length = Math.max(length, position + b.tokens());
    }

    GeneratedBatch emit(int[] activeDrifts, Instant now) {
      int dIn = model.dIn();
      int n = Math.min(config.tokensPerRecord(), length - position);
      float[] data = new float[n * dIn];
      List<String> texts = new ArrayList<>(n);
      int[] ids = new int[n];
      int[][] actives = new int[n][];
      float[][] magnitudes = new float[n][];
      float[] driftAmplitudes = new float[n];
      BitSet burstTokens = new BitSet(n);
      LatentBurst b = burst;
      int burstFeature = b == null ? -1 : b.feature();
      int burstEnd = b == null ? 0 : burstStart + b.tokens();
      float burstMagnitude = b == null ? 0f : (float) b.magnitude();
      int[] merged = new int[16];
      for (int t = 0; t < n; t++) {
        int pos = position + t;
        boolean inBurst = burstFeature >= 0 && pos >= burstStart && pos < burstEnd;
        int[] base = model.drawActive(rng);
        int count = base.length;
        if (merged.length < count + topics.length + 1) {
          merged = new int[count + topics.length + 1];
        }
        System.arraycopy(base, 0, merged, 0, count);
        for (int topic : topics) {
          if (rng.nextDouble() < config.topicFiringProbability()) {
            merged[count++] = topic;
          }
        }
        if (inBurst) {
          merged[count++] = burstFeature;
          burstTokens.set(t);
        }
        int[] active = sortedDistinct(merged, count);
        float[] m = new float[active.length];
        int strongest = -1;
        for (int k = 0; k < active.length; k++) {
          m[k] = inBurst && active[k] == burstFeature ? burstMagnitude : model.drawMagnitude(rng);
          if (strongest < 0 || m[k] > m[strongest]) {
            strongest = k;
          }
        }
        model.compose(active, m, active.length, rng, data, t * dIn);
        for (int d : activeDrifts) {
          float amplitude = (float) (drifts.get(d).scale() * signalRms * (0.5 + rng.nextDouble()));
          float[] direction = driftDirections[d];
          for (int j = 0; j < dIn; j++) {
            data[t * dIn + j] += amplitude * direction[j];
          }
          driftAmplitudes[t] += amplitude;
        }
        int tokenId;
        if (inBurst) {
          tokenId =
              vocabulary.triggerWordId(burstFeature, rng.nextInt(vocabulary.wordsPerFeature()));
        } else if (strongest >= 0) {
          tokenId =
              vocabulary.triggerWordId(
                  active[strongest], rng.nextInt(vocabulary.wordsPerFeature()));
        } else {
          tokenId = rng.nextInt(vocabulary.fillerCount());
        }
        ids[t] = tokenId;
        texts.add(vocabulary.text(tokenId));
        actives[t] = active;
        magnitudes[t] = m;
      }
      int startPosition = position;
      position += n;
      return new GeneratedBatch(
          id,
          startPosition,
          dIn,
          data,
          texts,
          ids,
          actives,
          magnitudes,
          driftAmplitudes,
          burstTokens,
          burstTokens.isEmpty() ? -1 : burstFeature,
          position >= length,
          now);
    }
  }

  private static boolean contains(int[] values, int count, int value) {
    for (int i = 0; i < count; i++) {
      if (values[i] == value) {
        return true;
      }
    }
    return false;
  }

  private static int[] sortedDistinct(int[] values, int count) {
    int[] sorted = Arrays.copyOf(values, count);
    Arrays.sort(sorted);
    int distinct = 0;
    for (int i = 0; i < sorted.length; i++) {
      if (distinct == 0 || sorted[i] != sorted[distinct - 1]) {
        sorted[distinct++] = sorted[i];
      }
    }
    return distinct == sorted.length ? sorted : Arrays.copyOf(sorted, distinct);
  }
}
