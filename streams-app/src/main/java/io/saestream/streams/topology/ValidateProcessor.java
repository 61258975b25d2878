package io.saestream.streams.topology;

import io.saestream.schema.v1.ActivationBatch;
import io.saestream.streams.errors.DeadLetter;
import io.saestream.streams.errors.DeadLetterReason;
import io.saestream.streams.inference.ActivationBuffer;
import io.saestream.streams.metrics.TokenMetrics;
import io.saestream.streams.registry.SaeRegistry;
import io.saestream.streams.registry.SaeRoute;
import io.saestream.streams.serde.ActivationBatchDecoder;
import java.util.Optional;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.jspecify.annotations.Nullable;

/**
 * First node: decodes the raw value, validates it, routes it by (model_id, hook_name) and converts
 * its activations to float32. Forwards {@link Validated.Accepted} to {@link SaeTopology#ANALYZE} or
 * {@link Validated.Rejected} to {@link SaeTopology#DEAD_LETTER}. Decoding happens here rather than
 * in a source deserializer so that every failure gets its precise reason and the original bytes.
 *
 * <p>One instance per task, used by its stream thread only. The route (retained sessions) lives
 * until the synchronous forward returns.
 */
final class ValidateProcessor implements Processor<byte[], byte[], byte[], Validated> {

  private final String sourceTopic;
  private final ActivationBatchDecoder decoder;
  private final SaeRegistry registry;
  private final BatchValidator validator;
  private final ActivationBuffer buffer = new ActivationBuffer();
  private @Nullable ProcessorContext<byte[], Validated> context;
  private @Nullable TokenMetrics tokens;

  ValidateProcessor(
      String sourceTopic,
      ActivationBatchDecoder decoder,
      SaeRegistry registry,
      BatchValidator validator) {
    this.sourceTopic = sourceTopic;
    this.decoder = decoder;
    this.registry = registry;
    this.validator = validator;
  }

  @Override
  public void init(ProcessorContext<byte[], Validated> context) {
    this.context = context;
    this.tokens = TokenMetrics.register(context.metrics());
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    ActivationBatchDecoder.Decoded decoded = decoder.decode(sourceTopic, record.value());
    ActivationBatch batch = decoded.batch();
    if (batch == null) {
      reject(record, decoded.deadLetter());
      return;
    }
    DeadLetter invalid = validator.checkRecord(batch);
    if (invalid != null) {
      reject(record, invalid);
      return;
    }
    Optional<SaeRoute> found = registry.route(batch.getModelId(), batch.getHookName());
    if (found.isEmpty()) {
      reject(
          record,
          DeadLetter.of(
              DeadLetterReason.NO_SAE_FOR_HOOK,
              "no SAE is deployed for model_id '"
                  + batch.getModelId()
                  + "', hook_name '"
                  + batch.getHookName()
                  + "'; deployed hooks: "
                  + registry.hooks()));
      return;
    }
    try (SaeRoute route = found.get()) {
      DeadLetter mismatch = validator.checkAgainst(batch, route);
      if (mismatch != null) {
        reject(record, mismatch);
        return;
      }
      int count = batch.getNTokens() * batch.getDIn();
      int nonFinite = buffer.load(batch.getData(), batch.getDtype(), count);
      if (nonFinite >= 0) {
        reject(record, BatchValidator.nonFinite(batch, nonFinite, buffer.floats().get(nonFinite)));
        return;
      }
      if (tokens != null) {
        tokens.record(batch.getNTokens());
      }
      context()
          .forward(
              record.withValue(new Validated.Accepted(batch, buffer.floats(), route)),
              SaeTopology.ANALYZE);
    }
  }

  private void reject(Record<byte[], byte[]> record, @Nullable DeadLetter deadLetter) {
    if (deadLetter == null) {
      throw new IllegalStateException("a rejected record needs a dead letter");
    }
    context()
        .forward(
            record.withValue(new Validated.Rejected(deadLetter, record.value())),
            SaeTopology.DEAD_LETTER);
  }

  private ProcessorContext<byte[], Validated> context() {
    ProcessorContext<byte[], Validated> c = context;
    if (c == null) {
      throw new IllegalStateException("process() before init()");
    }
    return c;
  }
}
