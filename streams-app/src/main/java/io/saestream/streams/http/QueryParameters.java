package io.saestream.streams.http;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;
import org.jspecify.annotations.Nullable;

/**
 * The query parameters of one request, with typed getters whose failures are 400s naming the
 * parameter. Immutable.
 */
final class QueryParameters {

  private final Map<String, String> values;

  private QueryParameters(Map<String, String> values) {
    this.values = values;
  }

  /** Parses {@code rawQuery} ({@code a=1&b=x}, percent-encoded; null for none). */
  static QueryParameters parse(@Nullable String rawQuery) {
    Map<String, String> values = new LinkedHashMap<>();
    if (rawQuery == null || rawQuery.isEmpty()) {
      return new QueryParameters(values);
    }
    for (String pair : rawQuery.split("&", -1)) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = decode(eq < 0 ? pair : pair.substring(0, eq));
      String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
      if (values.put(name, value) != null) {
        throw ApiException.badRequest("parameter " + name + " must be given at most once");
      }
    }
    return new QueryParameters(values);
  }

  /** The raw value of {@code name}, or null. */
  @Nullable String get(String name) {
    return values.get(name);
  }

  /** Integer {@code name} in [min, max], {@code fallback} when absent. */
  int integer(String name, int fallback, int min, int max) {
    String text = values.get(name);
    if (text == null) {
      return fallback;
    }
    try {
      int v = Integer.parseInt(text.trim());
      if (v >= min && v <= max) {
        return v;
      }
    } catch (NumberFormatException e) {
      // Falls through to the message below, which says what was expected.
    }
    throw ApiException.badRequest(
        name + " must be an integer in [" + min + ", " + max + "], was '" + text + "'");
  }

  /** Boolean {@code name} ({@code true} or {@code false}), {@code fallback} when absent. */
  boolean bool(String name, boolean fallback) {
    String text = values.get(name);
    if (text == null) {
      return fallback;
    }
    return switch (text) {
      case "true" -> true;
      case "false" -> false;
      default -> throw ApiException.badRequest(name + " must be true or false, was '" + text + "'");
    };
  }

  /** These parameters with {@code name} set to {@code value}, as a query string. */
  String with(String name, String value) {
    Map<String, String> copy = new LinkedHashMap<>(values);
    copy.put(name, value);
    StringJoiner query = new StringJoiner("&");
    copy.forEach(
        (k, v) ->
            query.add(
                URLEncoder.encode(k, StandardCharsets.UTF_8)
                    + "="
                    + URLEncoder.encode(v, StandardCharsets.UTF_8)));
    return query.toString();
  }

  private static String decode(String text) {
    try {
      return URLDecoder.decode(text, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("malformed query string: " + e.getMessage());
    }
  }
}
