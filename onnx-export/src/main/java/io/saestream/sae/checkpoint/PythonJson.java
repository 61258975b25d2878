package io.saestream.sae.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Map;

/**
 * Writes JSON exactly as Python's {@code json.dumps(obj)} does with its defaults, which is how
 * sae-lens writes {@code cfg.json}: {@code ", "} and {@code ": "} separators, ASCII only ({@code
 * \}{@code uXXXX} escapes), floats as Python's {@code repr} (shortest round-trip digits, {@code
 * 8.0}, {@code 1e-05}), {@code NaN}/{@code Infinity}. A cfg.json written by sae-lens is reproduced
 * byte for byte. Stateless.
 */
final class PythonJson {

  private PythonJson() {}

  static String write(JsonNode node) {
    StringBuilder sb = new StringBuilder();
    append(sb, node);
    return sb.toString();
  }

  private static void append(StringBuilder sb, JsonNode node) {
    switch (node.getNodeType()) {
      case OBJECT -> {
        sb.append('{');
        boolean first = true;
        for (Map.Entry<String, JsonNode> e : node.properties()) {
          if (!first) {
            sb.append(", ");
          }
          first = false;
          quote(sb, e.getKey());
          sb.append(": ");
          append(sb, e.getValue());
        }
        sb.append('}');
      }
      case ARRAY -> {
        sb.append('[');
        for (int i = 0; i < node.size(); i++) {
          if (i > 0) {
            sb.append(", ");
          }
          append(sb, node.get(i));
        }
        sb.append(']');
      }
      case STRING -> quote(sb, node.textValue());
      case NUMBER -> {
        if (node.isIntegralNumber()) {
          sb.append(node.bigIntegerValue());
        } else {
          sb.append(floatRepr(node.doubleValue()));
        }
      }
      case BOOLEAN -> sb.append(node.booleanValue() ? "true" : "false");
      case NULL, MISSING -> sb.append("null");
      case BINARY, POJO ->
          throw new IllegalArgumentException("cannot write a " + node.getNodeType() + " node");
    }
  }

  /** Python's {@code repr(float)} as {@code json.dumps} writes it. */
  static String floatRepr(double d) {
    if (Double.isNaN(d)) {
      return "NaN";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "Infinity" : "-Infinity";
    }
    if (d == 0) {
      return (Double.doubleToRawLongBits(d) < 0) ? "-0.0" : "0.0";
    }
    // Shortest digits that round-trip: the correctly rounded p-digit decimal for the smallest p.
    BigDecimal exact = new BigDecimal(d);
    BigDecimal shortest = exact;
    for (int p = 1; p <= 17; p++) {
      BigDecimal r = exact.round(new MathContext(p, RoundingMode.HALF_EVEN));
      if (r.doubleValue() == d) {
        shortest = r;
        break;
      }
    }
    shortest = shortest.stripTrailingZeros();
    String digits = shortest.unscaledValue().abs().toString();
    int n = digits.length();
    int decpt = n - shortest.scale(); // value = 0.<digits> * 10^decpt
    StringBuilder sb = new StringBuilder();
    if (d < 0) {
      sb.append('-');
    }
    if (decpt <= -4 || decpt > 16) {
      sb.append(digits.charAt(0));
      if (n > 1) {
        sb.append('.').append(digits, 1, n);
      }
      int exp = decpt - 1;
      sb.append('e').append(exp < 0 ? '-' : '+');
      int a = Math.abs(exp);
      if (a < 10) {
        sb.append('0');
      }
      sb.append(a);
    } else if (decpt <= 0) {
      sb.append("0.");
      for (int i = 0; i < -decpt; i++) {
        sb.append('0');
      }
      sb.append(digits);
    } else if (decpt < n) {
      sb.append(digits, 0, decpt).append('.').append(digits, decpt, n);
    } else {
      sb.append(digits);
      for (int i = n; i < decpt; i++) {
        sb.append('0');
      }
      sb.append(".0");
    }
    return sb.toString();
  }

  private static void quote(StringBuilder sb, String s) {
    JsonStrings.quote(sb, s, JsonStrings.Escaping.ASCII_ONLY);
  }
}
