package io.saestream.streams.monitoring.rules;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/** An immutable snapshot of the active rules, indexed by id and by SAE. Thread-safe. */
public final class RuleSet {

  private static final RuleSet EMPTY = new RuleSet(List.of());

  private final Map<String, AlertRule> byId;
  private final Map<String, List<AlertRule>> bySae;

  /** A set of rules with unique ids (a later duplicate replaces an earlier one). */
  public RuleSet(Collection<AlertRule> rules) {
    Map<String, AlertRule> ids = new TreeMap<>();
    for (AlertRule r : rules) {
      ids.put(r.ruleId(), r);
    }
    Map<String, List<AlertRule>> sae = new TreeMap<>();
    for (AlertRule r : ids.values()) {
      sae.computeIfAbsent(r.saeId(), k -> new ArrayList<>()).add(r);
    }
    sae.replaceAll((k, v) -> List.copyOf(v));
    this.byId = Map.copyOf(ids);
    this.bySae = Map.copyOf(sae);
  }

  /** No rules. */
  public static RuleSet empty() {
    return EMPTY;
  }

  /** The rules watching {@code saeId}, in id order. */
  public List<AlertRule> forSae(String saeId) {
    return bySae.getOrDefault(saeId, List.of());
  }

  /** The rule with this id, or null. */
  public @Nullable AlertRule get(String ruleId) {
    return byId.get(ruleId);
  }

  /** All rules, in id order. */
  public List<AlertRule> all() {
    return List.copyOf(new TreeMap<>(byId).values());
  }

  /** Number of rules. */
  public int size() {
    return byId.size();
  }
}
