package io.saestream.launcher.demo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * Keeps the demo's alert rules aligned with the SAE version being served: when the trainer's copy
 * of a new version appears under its output directory ({@code <sae_id>/v<version>}, moved there
 * whole once the version is published), the version is calibrated on the {@link CalibrationTraffic}
 * and the rules are re-published. The streams app swaps the same version in from the checkpoints
 * topic at about the same moment.
 *
 * <p>Not thread-safe: the demo's main thread drives it.
 */
final class RuleTracker {

  private static final Pattern VERSION_DIR = Pattern.compile("v(\\d+)");

  private final CalibrationTraffic traffic;
  private final DemoRules rules;
  private final Path publishedDir;
  private final int minTokens;
  private final List<RuleCalibration> calibrations = new ArrayList<>();
  private Map<String, String> current = Map.of();

  /**
   * @param publishedDir the directory the trainer keeps each version of the SAE in
   * @param minTokens tokens of one sequence the burst rule needs
   */
  RuleTracker(CalibrationTraffic traffic, DemoRules rules, Path publishedDir, int minTokens) {
    this.minTokens = minTokens;
    this.traffic = Objects.requireNonNull(traffic, "traffic");
    this.rules = Objects.requireNonNull(rules, "rules");
    this.publishedDir = Objects.requireNonNull(publishedDir, "publishedDir");
  }

  /** Calibrates version {@code version} read from {@code saeDir} and publishes its rules. */
  RuleCalibration calibrate(long version, Path saeDir) {
    RuleCalibration previous = latest();
    RuleCalibration c = RuleCalibration.measure(TopKSae.load(saeDir), version, traffic, minTokens);
    Map<String, String> rendered = rules.render(c, previous);
    rules.publish(rendered);
    calibrations.add(c);
    current = rendered;
    return c;
  }

  /**
   * Calibrates the newest version the trainer has published since the last call, if any.
   *
   * @return its calibration, or null when there is no newer version
   */
  @Nullable RuleCalibration pollPublished() {
    if (!Files.isDirectory(publishedDir)) {
      return null;
    }
    RuleCalibration last = latest();
    long seen = last == null ? -1 : last.version();
    long newest = -1;
    try (Stream<Path> dirs = Files.list(publishedDir)) {
      for (Path dir : dirs.toList()) {
        Matcher m = VERSION_DIR.matcher(dir.getFileName().toString());
        if (m.matches()) {
          newest = Math.max(newest, Long.parseLong(m.group(1)));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("listing the trainer's versions in " + publishedDir, e);
    }
    if (newest <= seen) {
      return null;
    }
    return calibrate(newest, publishedDir.resolve("v" + newest));
  }

  /** The last calibration, or null before the first. */
  @Nullable RuleCalibration latest() {
    return calibrations.isEmpty() ? null : calibrations.get(calibrations.size() - 1);
  }

  /** The previous calibration of {@code c}, or null for the first. */
  @Nullable RuleCalibration previousOf(RuleCalibration c) {
    int i = calibrations.indexOf(c);
    return i > 0 ? calibrations.get(i - 1) : null;
  }

  /** The rules last published, id to JSON. */
  Map<String, String> current() {
    return current;
  }

  /** Every calibration so far, in order. */
  List<RuleCalibration> calibrations() {
    return List.copyOf(calibrations);
  }
}
