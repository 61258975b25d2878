package io.saestream.schema.registry;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Compatibility rule a registry enforces when a new schema version is registered. */
public enum CompatibilityLevel {
  /** No check. */
  NONE,
  /** The new schema can read data written with the latest version. */
  BACKWARD,
  /** The new schema can read data written with every earlier version. */
  BACKWARD_TRANSITIVE,
  /** The latest version can read data written with the new schema. */
  FORWARD,
  /** Every earlier version can read data written with the new schema. */
  FORWARD_TRANSITIVE,
  /** BACKWARD and FORWARD against the latest version. */
  FULL,
  /** BACKWARD and FORWARD against every earlier version. */
  FULL_TRANSITIVE;

  /** Parses the wire name (e.g. {@code BACKWARD}), case-insensitively. */
  public static CompatibilityLevel parse(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "compatibility level must be one of "
              + Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "))
              + ", was '"
              + name
              + "'",
          e);
    }
  }
}
