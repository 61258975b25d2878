package io.saestream.streams.monitoring.rules;

import java.util.Objects;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the global rules store and the {@link RuleBook} in step with the compacted rules topic: key
 * = rule id, value = the rule as JSON, tombstone = delete. At start it loads the restored store
 * into the book. An invalid rule is logged with its reason and ignored (the previous version of
 * that rule, if any, stays in force); it is not stored, so it does not come back on restore.
 *
 * <p>One instance per app, run by the global stream thread.
 */
public final class RulesTopicProcessor implements Processor<String, String, Void, Void> {

  private static final Logger LOG = LoggerFactory.getLogger(RulesTopicProcessor.class);

  private final String storeName;
  private final RuleBook book;
  private @Nullable KeyValueStore<String, String> store;

  /** A processor updating {@code book} and the global store {@code storeName}. */
  public RulesTopicProcessor(String storeName, RuleBook book) {
    this.storeName = Objects.requireNonNull(storeName, "storeName");
    this.book = Objects.requireNonNull(book, "book");
  }

  @Override
  public void init(ProcessorContext<Void, Void> context) {
    KeyValueStore<String, String> s = context.getStateStore(storeName);
    this.store = s;
    int loaded = 0;
    try (KeyValueIterator<String, String> it = s.all()) {
      while (it.hasNext()) {
        var kv = it.next();
        if (apply(kv.key, kv.value)) {
          loaded++;
        }
      }
    }
    LOG.info("Loaded {} alert rule(s) from the rules topic", loaded);
  }

  @Override
  public void process(Record<String, String> record) {
    KeyValueStore<String, String> s = store;
    if (s == null) {
      throw new IllegalStateException("process() before init()");
    }
    String key = record.key();
    if (key == null) {
      LOG.error("Ignoring a rules-topic record without a key (the key is the rule id)");
      return;
    }
    String value = record.value();
    if (value == null) {
      s.delete(key);
      book.removeTopicRule(key);
      LOG.info("Alert rule {} deleted", key);
      return;
    }
    if (apply(key, value)) {
      s.put(key, value);
      LOG.info("Alert rule {} updated from the rules topic", key);
    }
  }

  private boolean apply(String key, String value) {
    try {
      book.putTopicRule(RuleParser.parseRecord(key, value));
      return true;
    } catch (IllegalArgumentException e) {
      LOG.error("Ignoring invalid alert rule {} from the rules topic: {}", key, e.getMessage());
      return false;
    }
  }
}
