package io.saestream.launcher.demo;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code batches:} line of the demo's summary: how many batches the producer got acknowledged,
 * and how many of those the streams app processed or dead-lettered. Immutable.
 *
 * @param produced batches acknowledged by the broker
 * @param processed batches with a committed FeatureBatch
 * @param deadLettered batches sent to the dead-letter topic
 */
record DemoBatchAccounting(long produced, long processed, long deadLettered) {

  private static final Pattern LINE =
      Pattern.compile(
          "batches: produced (\\d+), processed (\\d+), dead-lettered (\\d+), unaccounted"
              + " (-?\\d+)");

  /**
   * The accounting in the demo's {@code output}.
   *
   * @throws AssertionError when the output has no such line
   */
  static DemoBatchAccounting in(String output) {
    Matcher m = LINE.matcher(output);
    if (!m.find()) {
      throw new AssertionError("no batch accounting in the demo's summary:\n" + output);
    }
    return new DemoBatchAccounting(
        Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)));
  }
}
