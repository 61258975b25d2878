package io.saestream.launcher.demo;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jspecify.annotations.Nullable;

/**
 * The demo's two alert rules, one per staged incident, written to the compacted rules topic (key =
 * rule id, value = the rule as JSON, the format the rules file uses): a latent-threshold rule on
 * the latent that carries the burst feature in the served version, and a drift rule on the windowed
 * FVU. Re-publishing a rule replaces it in the running app.
 *
 * <p>Owns its Kafka producer until {@link #close()}. Not thread-safe: the demo's main thread
 * publishes.
 */
final class DemoRules implements AutoCloseable {

  /** Id of the latent-threshold rule that watches the burst feature. */
  static final String BURST_RULE = "burst-feature";

  /** Id of the drift rule on the windowed FVU. */
  static final String DRIFT_RULE = "drift-fvu";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration SEND_TIMEOUT = Duration.ofSeconds(10);

  private final KafkaProducer<String, String> producer;
  private final String topic;
  private final Shape shape;

  /**
   * What the two rules share across versions.
   *
   * @param saeId the watched SAE
   * @param burstWindow window of the burst rule
   * @param burstMinTokens tokens of one sequence that must reach the activation, ≥ 1
   * @param driftWindow window of the drift rule
   * @param driftMinTokens tokens a window needs to be judged, ≥ 1
   */
  record Shape(
      String saeId,
      Duration burstWindow,
      int burstMinTokens,
      Duration driftWindow,
      int driftMinTokens) {

    /** Validates the fields. */
    Shape {
      Objects.requireNonNull(saeId, "saeId");
      Objects.requireNonNull(burstWindow, "burstWindow");
      Objects.requireNonNull(driftWindow, "driftWindow");
      if (burstMinTokens < 1 || driftMinTokens < 1) {
        throw new IllegalArgumentException(
            "min tokens must be >= 1, were " + burstMinTokens + " and " + driftMinTokens);
      }
    }

    /** The rules for {@code calibration} served after {@code previous}, by id, as JSON. */
    Map<String, String> render(RuleCalibration calibration, @Nullable RuleCalibration previous) {
      ObjectNode burst = common(BURST_RULE, "latent-threshold", burstWindow);
      burst.put("latent", calibration.burstLatent());
      burst.put("min-activation", calibration.burstMinActivation());
      burst.put("min-tokens", burstMinTokens);
      ObjectNode drift = common(DRIFT_RULE, "drift", driftWindow);
      drift.put("metric", "fvu");
      drift.put("threshold", calibration.driftThreshold(previous));
      drift.put("min-tokens", driftMinTokens);
      Map<String, String> rules = new LinkedHashMap<>();
      rules.put(BURST_RULE, write(burst));
      rules.put(DRIFT_RULE, write(drift));
      return rules;
    }

    private ObjectNode common(String id, String type, Duration window) {
      ObjectNode rule = JSON.createObjectNode();
      rule.put("id", id);
      rule.put("type", type);
      rule.put("sae-id", saeId);
      rule.put("severity", "WARNING");
      rule.put("window", window.toMillis() + "ms");
      return rule;
    }
  }

  /** Connects a producer to {@code bootstrap} for rules of {@code shape} on {@code topic}. */
  DemoRules(String bootstrap, String topic, Shape shape) {
    this.topic = Objects.requireNonNull(topic, "topic");
    this.shape = Objects.requireNonNull(shape, "shape");
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.CLIENT_ID_CONFIG, "sae-stream-demo-rules");
    this.producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
  }

  /** The rules for {@code calibration} served after {@code previous}, by id, as JSON. */
  Map<String, String> render(RuleCalibration calibration, @Nullable RuleCalibration previous) {
    return shape.render(calibration, previous);
  }

  private static String write(ObjectNode node) {
    try {
      return JSON.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render a rule: " + e.getMessage(), e);
    }
  }

  /**
   * Writes {@code rules} (id to JSON) and waits until the broker has them.
   *
   * @throws KafkaException when a write fails or times out
   */
  void publish(Map<String, String> rules) {
    try {
      for (Map.Entry<String, String> rule : rules.entrySet()) {
        producer
            .send(new ProducerRecord<>(topic, rule.getKey(), rule.getValue()))
            .get(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted while writing the demo's rules to " + topic, e);
    } catch (ExecutionException | TimeoutException e) {
      throw new KafkaException("cannot write the demo's rules to " + topic + ": " + e, e);
    }
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(2));
  }
}
