package io.saestream.streams.monitoring;

import io.saestream.streams.config.MonitoringSettings;
import io.saestream.streams.config.StreamsAppConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the aggregates topic ({@code monitoring.aggregates-topic}) when it is missing: the app's
 * own repartition topic, so the app owns its creation like Kafka Streams owns its internal topics.
 * Partitions: {@code monitoring.aggregates-partitions}, or as many as the activations topic has;
 * replication: the broker's default; delete policy with one day of retention (a summary is consumed
 * within seconds; the retention only bounds a long outage). An existing topic is left as it is.
 * Instances racing to create it are fine: the loser sees it exists. Stateless.
 */
public final class AggregatesTopic {

  private static final Logger LOG = LoggerFactory.getLogger(AggregatesTopic.class);

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private static final Map<String, String> CONFIGS =
      Map.of(
          TopicConfig.CLEANUP_POLICY_CONFIG,
          TopicConfig.CLEANUP_POLICY_DELETE,
          TopicConfig.RETENTION_MS_CONFIG,
          Long.toString(Duration.ofDays(1).toMillis()),
          // A summary of one batch with thousands of distinct firing latents and their context
          // candidates can exceed the broker's 1 MiB default (measured 1.2 MB at 256 tokens,
          // d_sae 16384, k 32); the app's producer is allowed the same size.
          TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
          Integer.toString(StreamsAppConfig.MAX_RECORD_BYTES));

  private AggregatesTopic() {}

  /**
   * Creates the aggregates topic unless it exists.
   *
   * @param admin an admin client of the app's cluster (not owned)
   * @param settings names the topic and its partitions
   * @param activationsTopic the input topic whose partition count is the default
   * @return the topic's partition count
   * @throws IllegalStateException when the broker cannot be reached or refuses
   */
  public static int ensure(Admin admin, MonitoringSettings settings, String activationsTopic) {
    String topic = settings.aggregatesTopic();
    OptionalInt existing = partitionsOf(admin, topic);
    if (existing.isPresent()) {
      return existing.getAsInt();
    }
    int partitions = settings.aggregatesPartitions();
    if (partitions == 0) {
      partitions =
          partitionsOf(admin, activationsTopic)
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "cannot size the aggregates topic "
                              + topic
                              + ": the activations topic "
                              + activationsTopic
                              + " does not exist"));
    }
    try {
      admin
          .createTopics(
              List.of(
                  new NewTopic(topic, Optional.of(partitions), Optional.empty()).configs(CONFIGS)))
          .all()
          .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      LOG.info("Created the aggregates topic {} with {} partition(s)", topic, partitions);
      return partitions;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof TopicExistsException) {
        LOG.info("Aggregates topic {} was created by another instance", topic);
        return partitionsOf(admin, topic).orElse(partitions);
      }
      throw new IllegalStateException(
          "cannot create the aggregates topic " + topic + ": " + e.getCause(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating " + topic, e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("cannot create topic " + topic + " within " + TIMEOUT, e);
    }
  }

  /** The partition count of {@code topic}, empty when it does not exist. */
  private static OptionalInt partitionsOf(Admin admin, String topic) {
    try {
      Map<String, TopicDescription> d =
          admin
              .describeTopics(Set.of(topic))
              .allTopicNames()
              .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      TopicDescription description = d.get(topic);
      return description == null
          ? OptionalInt.empty()
          : OptionalInt.of(description.partitions().size());
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        return OptionalInt.empty();
      }
      throw new IllegalStateException("cannot describe topic " + topic + ": " + e.getCause(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while describing " + topic, e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("cannot describe topic " + topic + " within " + TIMEOUT, e);
    }
  }
}
