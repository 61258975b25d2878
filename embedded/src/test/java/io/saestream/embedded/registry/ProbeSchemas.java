package io.saestream.embedded.registry;

import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;

/** Small schemas whose compatibility relations the registry tests rely on. */
final class ProbeSchemas {

  /** {@code a: int}. */
  static final Schema V1 = record().requiredInt("a").endRecord();

  /** V1 plus {@code b: string = "x"}: BACKWARD and FORWARD compatible with V1. */
  static final Schema V2_ADDS_DEFAULTED_FIELD =
      record().requiredInt("a").name("b").type().stringType().stringDefault("x").endRecord();

  /** V1 plus a required {@code c: int}: a new reader cannot read V1 data (not BACKWARD). */
  static final Schema ADDS_REQUIRED_FIELD = record().requiredInt("a").requiredInt("c").endRecord();

  /** V1 without {@code a}: a V1 reader cannot read its data (not FORWARD), the reverse works. */
  static final Schema DROPS_REQUIRED_FIELD =
      record().name("b").type().stringType().stringDefault("x").endRecord();

  /** {@code a: string}: readable after DROPS_REQUIRED_FIELD, but never with V1's int a. */
  static final Schema RETYPES_A_WITH_DEFAULT =
      record().name("a").type().stringType().stringDefault("none").endRecord();

  private ProbeSchemas() {}

  private static SchemaBuilder.FieldAssembler<Schema> record() {
    return SchemaBuilder.record("Probe").namespace("io.saestream.test").fields();
  }
}
