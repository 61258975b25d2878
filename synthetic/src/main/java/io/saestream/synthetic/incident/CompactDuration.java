package io.saestream.synthetic.incident;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations written the way people type them: {@code 1500ms}, {@code 30s}, {@code 2.5s}, {@code
 * 2m}, {@code 1h}, or ISO-8601 such as {@code PT1M30S}. Stateless.
 */
public final class CompactDuration {

  private static final Pattern COMPACT = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)");

  private CompactDuration() {}

  /**
   * Parses a non-negative duration.
   *
   * @throws IllegalArgumentException naming the text and the accepted forms
   */
  public static Duration parse(String text) {
    Objects.requireNonNull(text, "text");
    String trimmed = text.strip();
    Matcher m = COMPACT.matcher(trimmed.toLowerCase(Locale.ROOT));
    if (m.matches()) {
      BigDecimal amount = new BigDecimal(m.group(1));
      BigDecimal nanosPerUnit =
          switch (m.group(2)) {
            case "ms" -> BigDecimal.valueOf(1_000_000L);
            case "s" -> BigDecimal.valueOf(1_000_000_000L);
            case "m" -> BigDecimal.valueOf(60_000_000_000L);
            default -> BigDecimal.valueOf(3_600_000_000_000L);
          };
      BigDecimal nanos = amount.multiply(nanosPerUnit);
      if (nanos.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
        throw new IllegalArgumentException("duration '" + text + "' is too long");
      }
      return Duration.ofNanos(nanos.longValue());
    }
    if (trimmed.toUpperCase(Locale.ROOT).startsWith("PT")) {
      try {
        Duration d = Duration.parse(trimmed);
        if (!d.isNegative()) {
          return d;
        }
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException(invalid(text), e);
      }
    }
    throw new IllegalArgumentException(invalid(text));
  }

  /** The shortest compact form of {@code d} that {@link #parse} reads back to the same value. */
  public static String format(Duration d) {
    Objects.requireNonNull(d, "d");
    if (d.isNegative()) {
      throw new IllegalArgumentException("duration must be >= 0, was " + d);
    }
    long nanos = d.toNanos();
    if (nanos % 3_600_000_000_000L == 0 && nanos != 0) {
      return nanos / 3_600_000_000_000L + "h";
    }
    if (nanos % 60_000_000_000L == 0 && nanos != 0) {
      return nanos / 60_000_000_000L + "m";
    }
    if (nanos % 1_000_000_000L == 0) {
      return nanos / 1_000_000_000L + "s";
    }
    if (nanos % 1_000_000L == 0) {
      return nanos / 1_000_000L + "ms";
    }
    return BigDecimal.valueOf(nanos, 9).stripTrailingZeros().toPlainString() + "s";
  }

  private static String invalid(String text) {
    return "'"
        + text
        + "' is not a duration: expected a number with a unit (ms, s, m, h), e.g. 30s, 1500ms,"
        + " 2.5m, or ISO-8601 such as PT1M30S";
  }
}
