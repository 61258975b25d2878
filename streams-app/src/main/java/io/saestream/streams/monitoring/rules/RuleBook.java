package io.saestream.streams.monitoring.rules;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The rules in force: those of the rules file plus those of the rules topic; a topic rule replaces
 * a file rule with the same id. Writers (the file watcher, the rules-topic processor) replace their
 * part; readers (stream threads) take {@link #current()}, a volatile snapshot, once per record.
 *
 * <p>Owned by the app (one per instance), shared by its threads. Thread-safe.
 */
public final class RuleBook {

  private final Map<String, AlertRule> topicRules = new ConcurrentHashMap<>();
  private volatile List<AlertRule> fileRules = List.of();
  private volatile RuleSet current = RuleSet.empty();

  /** The rules in force now. */
  public RuleSet current() {
    return current;
  }

  /** Replaces the rules that came from the rules file. */
  public synchronized void replaceFileRules(List<AlertRule> rules) {
    fileRules = List.copyOf(rules);
    rebuild();
  }

  /** Adds or replaces a rule from the rules topic. */
  public synchronized void putTopicRule(AlertRule rule) {
    Objects.requireNonNull(rule, "rule");
    topicRules.put(rule.ruleId(), rule);
    rebuild();
  }

  /** Removes a rule of the rules topic (a tombstone); a file rule of that id comes back. */
  public synchronized void removeTopicRule(String ruleId) {
    topicRules.remove(ruleId);
    rebuild();
  }

  private void rebuild() {
    List<AlertRule> all = new ArrayList<>(fileRules);
    all.addAll(topicRules.values());
    current = new RuleSet(all);
  }
}
