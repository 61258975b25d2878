package io.saestream.streams.serde;

import io.saestream.schema.registry.SchemaRegistryClient;
import io.saestream.schema.serde.GenericAvroDeserializer;
import io.saestream.schema.serde.WireFormatException;
import io.saestream.schema.v1.ActivationBatch;
import io.saestream.schema.v1.Dtype;
import io.saestream.streams.errors.DeadLetter;
import io.saestream.streams.errors.DeadLetterReason;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.GenericRecord;
import org.jspecify.annotations.Nullable;

/**
 * Decodes the value bytes of an {@code sae.activations.v1} record into an {@link ActivationBatch},
 * or says precisely why it cannot: the dead-letter decision is made here, where the cause is known,
 * instead of in a deserialization handler that only sees an exception.
 *
 * <p>Unknown dtypes. The {@code Dtype} enum has no default symbol, on purpose, so a plain Avro
 * reader refuses the whole writer schema once a newer producer adds a symbol, even for its records
 * in known dtypes. This decoder reads with a <em>lenient</em> reader schema: {@code
 * ActivationBatch} with one extra, reader-only {@code Dtype} symbol ({@value #UNRECOGNISED_DTYPE})
 * as the enum default. Avro's schema resolution maps every symbol the writer has and we lack to it,
 * so exactly the records whose dtype we cannot interpret become {@link
 * DeadLetterReason#UNKNOWN_DTYPE}, and the rest of that producer's records still decode.
 *
 * <p>Registry failures ({@link io.saestream.schema.registry.SchemaRegistryException} other than an
 * unknown id) are infrastructure and propagate. Thread-safe; does not own the registry client.
 */
public final class ActivationBatchDecoder {

  /** The reader-only symbol that unknown writer dtypes resolve to. */
  public static final String UNRECOGNISED_DTYPE = "UNRECOGNISED_BY_THIS_READER";

  /** Fields copied from the lenient record, one per ActivationBatch field. */
  static final Set<String> FIELDS =
      Set.of(
          "model_id",
          "hook_name",
          "sequence_id",
          "start_position",
          "n_tokens",
          "d_in",
          "dtype",
          "data",
          "token_ids",
          "tokens",
          "produced_at",
          "attributes");

  private static final Schema LENIENT_SCHEMA = lenientSchema();

  private final GenericAvroDeserializer deserializer;

  /** Creates a decoder that looks writer schemas up in {@code registry}. */
  public ActivationBatchDecoder(SchemaRegistryClient registry) {
    this.deserializer =
        new GenericAvroDeserializer(Objects.requireNonNull(registry, "registry"), LENIENT_SCHEMA);
  }

  /**
   * Decodes {@code value}, read from {@code topic}.
   *
   * @return the batch, or the dead letter saying why there is none
   */
  public Decoded decode(String topic, byte @Nullable [] value) {
    if (value == null) {
      return Decoded.rejected(
          DeadLetter.of(DeadLetterReason.UNDECODABLE, "record has no value (tombstone)"));
    }
    GenericRecord record;
    try {
      record = deserializer.deserialize(topic, value);
    } catch (WireFormatException e) {
      DeadLetterReason reason =
          e.reason() == WireFormatException.Reason.UNKNOWN_SCHEMA_ID
              ? DeadLetterReason.UNKNOWN_SCHEMA_ID
              : DeadLetterReason.UNDECODABLE;
      return Decoded.rejected(DeadLetter.of(reason, e));
    }
    if (record == null) {
      return Decoded.rejected(
          DeadLetter.of(DeadLetterReason.UNDECODABLE, "record decoded to null"));
    }
    GenericEnumSymbol<?> dtypeSymbol = (GenericEnumSymbol<?>) record.get("dtype");
    String symbol = dtypeSymbol.toString();
    if (symbol.equals(UNRECOGNISED_DTYPE)) {
      return Decoded.rejected(
          DeadLetter.of(
              DeadLetterReason.UNKNOWN_DTYPE,
              "dtype is a symbol this reader does not know (written by a newer producer); known: "
                  + Arrays.toString(Dtype.values())));
    }
    return Decoded.accepted(toActivationBatch(record, Dtype.valueOf(symbol)));
  }

  private static ActivationBatch toActivationBatch(GenericRecord r, Dtype dtype) {
    ActivationBatch.Builder builder =
        ActivationBatch.newBuilder()
            .setModelId((String) r.get("model_id"))
            .setHookName((String) r.get("hook_name"))
            .setSequenceId((String) r.get("sequence_id"))
            .setStartPosition((Integer) r.get("start_position"))
            .setNTokens((Integer) r.get("n_tokens"))
            .setDIn((Integer) r.get("d_in"))
            .setDtype(dtype)
            .setData((ByteBuffer) r.get("data"))
            .setProducedAt(Instant.ofEpochMilli((Long) r.get("produced_at")))
            .setAttributes(stringMap(r.get("attributes")));
    // The optional fields default to null in the builder.
    List<Integer> tokenIds = copyOrNull(r.get("token_ids"), Integer.class);
    if (tokenIds != null) {
      builder.setTokenIds(tokenIds);
    }
    List<String> tokens = copyOrNull(r.get("tokens"), String.class);
    if (tokens != null) {
      builder.setTokens(tokens);
    }
    return builder.build();
  }

  private static <T> @Nullable List<T> copyOrNull(@Nullable Object value, Class<T> type) {
    if (value == null) {
      return null;
    }
    List<?> list = (List<?>) value;
    List<T> copy = new ArrayList<>(list.size());
    for (Object element : list) {
      copy.add(type.cast(element));
    }
    return copy;
  }

  private static Map<String, String> stringMap(@Nullable Object value) {
    Map<String, String> copy = new HashMap<>();
    if (value != null) {
      for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
        copy.put(e.getKey().toString(), e.getValue().toString());
      }
    }
    return copy;
  }

  /** ActivationBatch's schema with the reader-only default dtype symbol. */
  static Schema lenientSchema() {
    Schema strict = ActivationBatch.getClassSchema();
    Set<String> actual =
        strict.getFields().stream().map(Schema.Field::name).collect(Collectors.toSet());
    if (!actual.equals(FIELDS)) {
      // A new ActivationBatch field must be copied in toActivationBatch too.
      throw new IllegalStateException(
          "ActivationBatch fields " + actual + " differ from the fields decoded " + FIELDS);
    }
    Schema strictDtype = strict.getField("dtype").schema();
    List<String> symbols = new ArrayList<>(strictDtype.getEnumSymbols());
    symbols.add(UNRECOGNISED_DTYPE);
    Schema lenientDtype =
        Schema.createEnum(
            strictDtype.getName(),
            strictDtype.getDoc(),
            strictDtype.getNamespace(),
            symbols,
            UNRECOGNISED_DTYPE);
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field field : strict.getFields()) {
      fields.add(
          field.name().equals("dtype")
              ? new Schema.Field(field, lenientDtype)
              : new Schema.Field(field, field.schema()));
    }
    return Schema.createRecord(
        strict.getName(), strict.getDoc(), strict.getNamespace(), false, fields);
  }

  /**
   * The outcome of decoding one record: exactly one of a batch or a dead letter.
   *
   * @param batch the decoded batch, or null
   * @param deadLetter why there is no batch, or null
   */
  public record Decoded(@Nullable ActivationBatch batch, @Nullable DeadLetter deadLetter) {

    /** Validates that exactly one is present. */
    public Decoded {
      if ((batch == null) == (deadLetter == null)) {
        throw new IllegalArgumentException("exactly one of batch and deadLetter must be set");
      }
    }

    static Decoded accepted(ActivationBatch batch) {
      return new Decoded(batch, null);
    }

    static Decoded rejected(DeadLetter deadLetter) {
      return new Decoded(null, deadLetter);
    }
  }
}
