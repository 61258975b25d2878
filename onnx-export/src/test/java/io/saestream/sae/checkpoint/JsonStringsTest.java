package io.saestream.sae.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.saestream.sae.checkpoint.JsonStrings.Escaping;
import org.junit.jupiter.api.Test;

class JsonStringsTest {

  private static final String MIXED = "a\"\\\n\r\t\b\f\u0001\u001f ~\u007fé😀/";

  @Test
  void pythonEscapesEverythingOutsidePrintableAscii() {
    assertThat(quoted(Escaping.ASCII_ONLY))
        .isEqualTo("\"a\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f ~\\u007f\\u00e9\\ud83d\\ude00/\"");
  }

  @Test
  void serdeEscapesOnlyControlsAndKeepsTheRestAsIs() {
    assertThat(quoted(Escaping.CONTROLS_ONLY))
        .isEqualTo("\"a\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f ~\u007fé😀/\"");
  }

  private static String quoted(Escaping escaping) {
    StringBuilder sb = new StringBuilder();
    JsonStrings.quote(sb, MIXED, escaping);
    return sb.toString();
  }
}
