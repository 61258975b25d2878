package io.saestream.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigTreeTest {

  private static final Path BASE = Path.of("/etc/app");

  private static final ConfigLayout LAYOUT =
      ConfigLayout.builder("test", ConfigTreeTest.class)
          .section("s", "a", "b", "c")
          .propertyMap("s.props")
          .entries("items")
          .build();

  private static ConfigTree tree(String yaml) {
    return LAYOUT.read(yaml, BASE, Map.of());
  }

  @Test
  void absentAndNullValuesTakeTheFallback() {
    ConfigTree t = tree("s:\n  a: ~\n");
    assertThat(t.has("s.a")).isFalse();
    assertThat(t.optionalString("s.a")).isNull();
    assertThat(t.string("s.b", "x")).isEqualTo("x");
    assertThat(t.integer("s.a", 7)).isEqualTo(7);
    assertThat(t.longInteger("s.a", 8L)).isEqualTo(8L);
    assertThat(t.number("s.a", 0.5)).isEqualTo(0.5);
    assertThat(t.bool("s.a", true)).isTrue();
    assertThat(t.duration("s.a", Duration.ofSeconds(3))).isEqualTo(Duration.ofSeconds(3));
    assertThat(t.path("s.a", Path.of("/x"))).isEqualTo(Path.of("/x"));
    assertThat(t.optionalPath("s.a")).isNull();
    assertThat(t.properties("s.props")).isEmpty();
    assertThat(t.entries("items")).isEmpty();
  }

  @Test
  void valuesAreTyped() {
    ConfigTree t = tree("s:\n  a: 10_000\n  b: ' TRUE '\n  c: ../data\n");
    assertThat(t.integer("s.a", 0)).isEqualTo(10_000);
    assertThat(t.longInteger("s.a", 0)).isEqualTo(10_000L);
    assertThat(t.number("s.a", 0)).isEqualTo(10_000.0);
    assertThat(t.bool("s.b", false)).isTrue();
    assertThat(t.path("s.c", Path.of("/x"))).isEqualTo(Path.of("/etc/data"));
    assertThat(t.requiredString("s.c")).isEqualTo("../data");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "100ms|PT0.1S",
        "30s|PT30S",
        "5 m|PT5M",
        "1h|PT1H",
        "PT1M30S|PT1M30S",
      })
  void durationsTakeUnitsOrIso8601(String text, String expected) {
    assertThat(ConfigTree.parseDuration("k", text)).isEqualTo(Duration.parse(expected));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "a: many|integer|s.a must be an integer, was 'many'",
        "a: 3000000000|integer|s.a must fit in 32 bits, was 3000000000",
        "a: 1.5|long|s.a must be an integer, was '1.5'",
        "a: wide|number|s.a must be a number, was 'wide'",
        "a: NaN|number|s.a must be finite, was NaN",
        "a: -Infinity|number|s.a must be finite, was -Infinity",
        "a: yes please|bool|s.a must be true or false, was 'yes please'",
        "a: 100|duration|s.a must be a duration like 100ms, 30s, 5m, 1h or PT30S, was '100'",
        "a: [1, 2]|string|s.a must be a single value, was a ARRAY",
        "a: {x: 1}|integer|s.a must be a single value, was a OBJECT",
        "a: [x, ~]|strings|s.a[] must have a value",
        "a: [[x]]|strings|s.a[] must be a single value, was a ARRAY",
        "props: [a]|properties|s.props must be a mapping, was ARRAY",
        "props: {a: ~}|properties|s.props.a must have a value",
      })
  void badValuesNameTheirKey(String yaml, String type, String message) {
    ConfigTree t = tree("s:\n  " + yaml + "\n");
    assertThatThrownBy(
            () -> {
              switch (type) {
                case "integer" -> t.integer("s.a", 0);
                case "long" -> t.longInteger("s.a", 0);
                case "number" -> t.number("s.a", 0);
                case "bool" -> t.bool("s.a", false);
                case "duration" -> t.duration("s.a", Duration.ZERO);
                case "strings" -> t.strings("s.a", "");
                case "properties" -> t.properties("s.props");
                default -> t.string("s.a", "");
              }
            })
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(message);
  }

  @Test
  void stringsComeFromAListOrCommaSeparatedText() {
    assertThat(tree("s:\n  a: [x, ' y']\n").strings("s.a", "z")).containsExactly("x", " y");
    assertThat(tree("s:\n  a: x,y\n").strings("s.a", "z")).containsExactly("x", "y");
    assertThat(tree("").strings("s.a", "p,q")).containsExactly("p", "q");
  }

  @Test
  void propertiesAreSortedScalars() {
    assertThat(tree("s:\n  props: {z: 1, a: two}\n").properties("s.props"))
        .containsExactly(Map.entry("a", "two"), Map.entry("z", "1"));
  }

  @Test
  void entriesNameTheirKeysByIndex() {
    List<ConfigTree> items = tree("items:\n  - {n: 1}\n  - {n: x, m: 2}\n").entries("items");

    assertThat(items).hasSize(2);
    assertThat(items.get(1).keys()).containsExactly("n", "m");
    assertThat(items.get(0).requiredInteger("n")).isEqualTo(1);
    assertThatThrownBy(() -> items.get(1).requiredInteger("n"))
        .hasMessage("items[1].n must be an integer, was 'x'");
    assertThatThrownBy(() -> items.get(0).requiredString("m")).hasMessage("items[0].m is required");
    assertThatThrownBy(() -> items.get(0).requiredNumber("m")).hasMessage("items[0].m is required");
    assertThat(items.get(0).keyOf("n")).isEqualTo("items[0].n");
    assertThatThrownBy(() -> tree("items: 3\n").entries("items"))
        .hasMessage("items must be a list, was NUMBER");
    assertThatThrownBy(() -> tree("items: [3]\n").entries("items"))
        .hasMessage("items[0] must be a mapping, was NUMBER");
  }

  @Test
  void namedPutsTheEntryInFrontOfMessagesThatLackIt() {
    ConfigTree item = tree("items: [{n: 1}]\n").entries("items").get(0);
    IllegalArgumentException bare = new IllegalArgumentException("n must be > 1, was 1");
    IllegalArgumentException named = new IllegalArgumentException("items[0].n is required");

    assertThat(item.named(bare)).hasMessage("items[0].n must be > 1, was 1").hasCause(bare);
    assertThat(item.named(named)).isSameAs(named);
  }
}
