package io.saestream.schema.serde;

/** Guards against a key serde configured as a value serde or the reverse. */
final class SerdeKeyCheck {

  private SerdeKeyCheck() {}

  static void requireSame(AvroSerdeConfig config, boolean isKey) {
    if (config.isKey() != isKey) {
      throw new IllegalArgumentException(
          "serializer was built for record "
              + (config.isKey() ? "keys" : "values")
              + " but is configured for record "
              + (isKey ? "keys" : "values")
              + "; build it with AvroSerdeConfig."
              + (isKey ? "forKeys()" : "forValues()"));
    }
  }
}
