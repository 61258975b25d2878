package io.saestream.sae.checkpoint;

/**
 * JSON string literals escaped as the two writers of sae-lens files escape them: Python's {@code
 * json.dumps} for {@code cfg.json} and Rust's serde_json for safetensors headers. Both escape the
 * quote, the backslash and control characters alike; they differ only in what else they escape.
 * Stateless.
 */
final class JsonStrings {

  /** What is escaped besides the quote, the backslash and control characters. */
  enum Escaping {
    /** Python's default {@code ensure_ascii=True}: every char outside printable ASCII. */
    ASCII_ONLY,
    /** serde_json: nothing else; non-ASCII is written as is (UTF-8 once encoded). */
    CONTROLS_ONLY
  }

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private JsonStrings() {}

  /** Appends {@code s} as a quoted JSON string escaped per {@code escaping}. */
  static void quote(StringBuilder sb, String s, Escaping escaping) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        case '\b' -> sb.append("\\b");
        case '\f' -> sb.append("\\f");
        default -> {
          if (c < 0x20 || (escaping == Escaping.ASCII_ONLY && c > 0x7e)) {
            sb.append("\\u")
                .append(HEX[(c >> 12) & 0xf])
                .append(HEX[(c >> 8) & 0xf])
                .append(HEX[(c >> 4) & 0xf])
                .append(HEX[c & 0xf]);
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
