package io.saestream.streams.errors;

import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.processor.TaskId;

/** An {@link ErrorHandlerContext} for handler tests: a record read from activations-3 @ 42. */
final class FakeErrorHandlerContext implements ErrorHandlerContext {

  private final Headers headers = new RecordHeaders();
  private final byte[] key;
  private final byte[] value;

  FakeErrorHandlerContext(byte[] key, byte[] value) {
    this.key = key;
    this.value = value;
  }

  @Override
  public String topic() {
    return "activations";
  }

  @Override
  public int partition() {
    return 3;
  }

  @Override
  public long offset() {
    return 42;
  }

  @Override
  public Headers headers() {
    return headers;
  }

  @Override
  public String processorNodeId() {
    return "analyze";
  }

  @Override
  public TaskId taskId() {
    return new TaskId(0, 3);
  }

  @Override
  public long timestamp() {
    return 1_000;
  }

  @Override
  public byte[] sourceRawKey() {
    return key;
  }

  @Override
  public byte[] sourceRawValue() {
    return value;
  }
}
