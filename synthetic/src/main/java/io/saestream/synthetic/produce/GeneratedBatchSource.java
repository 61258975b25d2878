package io.saestream.synthetic.produce;

import io.saestream.schema.v1.ActivationBatch;
import io.saestream.synthetic.sequence.GeneratedBatch;
import io.saestream.synthetic.sequence.SequenceGenerator;
import java.util.Objects;

/**
 * Records from a {@link SequenceGenerator}: endless, with token texts and ids, {@code produced_at}
 * = the generator's clock reading. Not thread-safe, like the generator it wraps.
 */
public final class GeneratedBatchSource implements BatchSource {

  private final SequenceGenerator generator;
  private final ActivationBatchTemplate template;

  /** Records of {@code generator}'s batches, shaped by {@code template}. */
  public GeneratedBatchSource(SequenceGenerator generator, ActivationBatchTemplate template) {
    this.generator = Objects.requireNonNull(generator, "generator");
    this.template = Objects.requireNonNull(template, "template");
  }

  @Override
  public ActivationBatch next() {
    GeneratedBatch batch = generator.next();
    return template.build(
        batch.sequenceId(),
        batch.startPosition(),
        batch.data(),
        batch.nTokens(),
        batch.dIn(),
        batch.tokens(),
        batch.tokenIds(),
        batch.generatedAt());
  }
}
