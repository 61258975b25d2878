/**
 * Alert rules: their types ({@link io.saestream.streams.monitoring.rules.AlertRule}), parsing, and
 * the {@link io.saestream.streams.monitoring.rules.RuleBook} that merges the rules file (reloaded
 * on change) with the compacted rules topic.
 */
package io.saestream.streams.monitoring.rules;
