package io.saestream.streams.http;

import io.saestream.schema.v1.AlertSeverity;
import io.saestream.schema.v1.FeatureAlert;
import io.saestream.schema.v1.TokenContext;
import io.saestream.streams.config.MonitoringSettings;
import io.saestream.streams.monitoring.MonitoringQueries;
import io.saestream.streams.monitoring.MonitoringStores;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.jspecify.annotations.Nullable;

/** An {@link ApiBackend} whose every answer a test sets; stores are empty unless replaced. */
class FakeBackend implements ApiBackend {

  volatile String self = "127.0.0.1:1111";
  volatile InstanceState state = new InstanceState("RUNNING", true);
  volatile List<SaeInfo> saes =
      List.of(new SaeInfo("sae-a", "m", "blocks.0.hook_resid_post", 3, 8, 16, 4, "topk"));
  volatile boolean monitoring = true;
  final Map<String, Owner> owners = new HashMap<>();
  volatile List<String> peers = List.of();
  final List<FeatureAlert> alerts = new ArrayList<>();
  volatile InstanceNumbers numbers = new InstanceNumbers(12.5, 1000, 10, 2, 1, 50.0);
  volatile MonitoringStores stores = FakeBackend::emptyStore;

  @Override
  public String self() {
    return self;
  }

  @Override
  public InstanceState state() {
    return state;
  }

  @Override
  public List<SaeInfo> saes() {
    return saes;
  }

  @Override
  public boolean monitoring() {
    return monitoring;
  }

  @Override
  public Owner locate(String saeId) {
    return owners.getOrDefault(saeId, new Local());
  }

  @Override
  public MonitoringQueries queries() {
    return new MonitoringQueries(MonitoringSettings.defaults().withEnabled(true), stores);
  }

  @Override
  public List<String> peers() {
    return peers;
  }

  @Override
  public synchronized List<FeatureAlert> recentAlerts(int limit) {
    return List.copyOf(alerts.subList(0, Math.min(limit, alerts.size())));
  }

  @Override
  public @Nullable String ruleType(String ruleId) {
    return ruleId.startsWith("burst") ? "latent-threshold" : null;
  }

  @Override
  public InstanceNumbers numbers() {
    return numbers;
  }

  /** An alert of rule {@code ruleId} created at {@code createdAt} ms. */
  static FeatureAlert alert(String alertId, String ruleId, long createdAt) {
    return FeatureAlert.newBuilder()
        .setAlertId(alertId)
        .setRuleId(ruleId)
        .setSeverity(AlertSeverity.WARNING)
        .setSaeId("sae-a")
        .setSaeVersion(3)
        .setModelId("m")
        .setHookName("blocks.0.hook_resid_post")
        .setLatentIndex(5)
        .setSequenceIds(List.of("seq-1"))
        .setWindowStart(Instant.ofEpochMilli(60_000))
        .setWindowEnd(Instant.ofEpochMilli(120_000))
        .setObservedValue(12.0)
        .setThreshold(10.0)
        .setTokenContext(
            TokenContext.newBuilder()
                .setSequenceId("seq-1")
                .setPosition(7)
                .setTokens(List.of("a", "b", "c"))
                .setFocusIndex(1)
                .build())
        .setCreatedAt(Instant.ofEpochMilli(createdAt))
        .build();
  }

  static <V> ReadOnlyKeyValueStore<String, V> emptyStore(String name) {
    return new ReadOnlyKeyValueStore<>() {
      @Override
      public @Nullable V get(String key) {
        return null;
      }

      @Override
      public KeyValueIterator<String, V> range(String from, String to) {
        return empty();
      }

      @Override
      public KeyValueIterator<String, V> all() {
        return empty();
      }

      @Override
      public long approximateNumEntries() {
        return 0;
      }
    };
  }

  private static <V> KeyValueIterator<String, V> empty() {
    return new KeyValueIterator<>() {
      @Override
      public void close() {}

      @Override
      public String peekNextKey() {
        throw new NoSuchElementException();
      }

      @Override
      public boolean hasNext() {
        return false;
      }

      @Override
      public KeyValue<String, V> next() {
        throw new NoSuchElementException();
      }
    };
  }
}
