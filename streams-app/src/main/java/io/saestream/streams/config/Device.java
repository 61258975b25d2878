package io.saestream.streams.config;

import java.util.Locale;

/** Where ONNX Runtime runs the SAEs; the configuration value is the lower-case name. */
public enum Device {
  /** The CPU execution provider only. */
  CPU,
  /** The CUDA execution provider; start-up fails when it is unavailable. */
  CUDA,
  /** CUDA when available, otherwise the CPU, saying so once in the log. */
  AUTO;

  /** The name used in configuration files. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses a configuration value, case-insensitively.
   *
   * @throws IllegalArgumentException naming {@code key} and the accepted values
   */
  public static Device parse(String key, String value) {
    for (Device d : values()) {
      if (d.configName().equalsIgnoreCase(value.trim())) {
        return d;
      }
    }
    throw new IllegalArgumentException(
        key + " must be one of cpu, cuda, auto, was '" + value + "'");
  }
}
