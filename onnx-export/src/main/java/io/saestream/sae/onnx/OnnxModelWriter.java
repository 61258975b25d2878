package io.saestream.sae.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.List;

/**
 * Serialises a model whose weights are streamed rather than held in protobuf {@code ByteString}s.
 *
 * <p>Embedded: the bytes are exactly those of a {@code ModelProto} whose graph has the weights as
 * {@code raw_data} initializers. Protobuf lets fields come in any order, so the model's small
 * fields are written first, then the {@code graph} field, whose length is computed up front,
 * followed by the skeleton graph and one {@code initializer} record per weight, each ending with
 * its streamed {@code raw_data}. Heap use is bounded by the skeleton plus one chunk.
 *
 * <p>External: every weight is a {@code TensorProto} with {@code data_location = EXTERNAL} and
 * {@code external_data} {location, offset, length}; the data file holds the weights in graph order,
 * each starting at a multiple of {@link #EXTERNAL_DATA_ALIGNMENT} (zero padding between), so ONNX
 * Runtime can memory-map them.
 *
 * <p>Immutable; every write streams the weights from their sources again. Not for concurrent use
 * with weights whose sources are not thread-safe.
 */
final class OnnxModelWriter {

  /** Alignment of each tensor in the external-data file: a 64 KiB allocation granularity. */
  static final int EXTERNAL_DATA_ALIGNMENT = 1 << 16;

  private static final int GRAPH = ModelProto.GRAPH_FIELD_NUMBER;
  private static final int INITIALIZER = GraphProto.INITIALIZER_FIELD_NUMBER;
  private static final int RAW_DATA = TensorProto.RAW_DATA_FIELD_NUMBER;

  private final ModelProto model;
  private final List<WeightInitializer> weights;

  /** {@code model} holds the skeleton graph, without the streamed weights. */
  OnnxModelWriter(ModelProto model, List<WeightInitializer> weights) {
    this.model = model;
    this.weights = List.copyOf(weights);
  }

  /** Float32 bytes of all weights. */
  long weightBytes() {
    long b = 0;
    for (WeightInitializer w : weights) {
      b += w.data().byteSize();
    }
    return b;
  }

  /** The size of the embedded serialisation. */
  long embeddedSize() {
    long graphLen = graphLength();
    return modelWithoutGraph().getSerializedSize()
        + CodedOutputStream.computeTagSize(GRAPH)
        + CodedOutputStream.computeUInt64SizeNoTag(graphLen)
        + graphLen;
  }

  /** Writes the model with embedded weights. */
  void writeEmbedded(WritableByteChannel out, ExportProgressListener progress) throws IOException {
    long graphLen = graphLength();
    writeFully(out, modelWithoutGraph().toByteArray());
    writeFully(out, lengthDelimitedHeader(GRAPH, graphLen));
    writeFully(out, model.getGraph().toByteArray());
    ProgressChannel counted = new ProgressChannel(out, progress, weightBytes());
    for (WeightInitializer w : weights) {
      byte[] meta = metadataOnly(w).toByteArray();
      long raw = w.data().byteSize();
      writeFully(out, lengthDelimitedHeader(INITIALIZER, tensorLength(meta, raw)));
      writeFully(out, meta);
      writeFully(out, lengthDelimitedHeader(RAW_DATA, raw));
      writeWeight(w, counted);
    }
    counted.finish();
  }

  /**
   * The model whose weights reference {@code dataFileName} (a name relative to the model's
   * directory), to be written together with {@link #writeExternalData}.
   */
  ModelProto externalModel(String dataFileName) {
    GraphProto.Builder graph = model.getGraph().toBuilder();
    long offset = 0;
    for (WeightInitializer w : weights) {
      offset = align(offset);
      long length = w.data().byteSize();
      graph.addInitializer(
          metadataOnly(w).toBuilder()
              .setDataLocation(TensorProto.DataLocation.EXTERNAL)
              .addExternalData(entry("location", dataFileName))
              .addExternalData(entry("offset", Long.toString(offset)))
              .addExternalData(entry("length", Long.toString(length))));
      offset += length;
    }
    return model.toBuilder().setGraph(graph).build();
  }

  /** Writes the external-data file matching {@link #externalModel}. */
  void writeExternalData(WritableByteChannel out, ExportProgressListener progress)
      throws IOException {
    ProgressChannel counted = new ProgressChannel(out, progress, weightBytes());
    long position = 0;
    for (WeightInitializer w : weights) {
      long aligned = align(position);
      writeZeros(out, aligned - position);
      writeWeight(w, counted);
      position = aligned + w.data().byteSize();
    }
    counted.finish();
  }

  private static void writeWeight(WeightInitializer w, ProgressChannel counted) throws IOException {
    long before = counted.written();
    w.data().writeFloat32(counted);
    long wrote = counted.written() - before;
    if (wrote != w.data().byteSize()) {
      throw new IllegalStateException(
          "weight " + w.name() + " wrote " + wrote + " bytes, expected " + w.data().byteSize());
    }
  }

  private ModelProto modelWithoutGraph() {
    return model.toBuilder().clearGraph().build();
  }

  private long graphLength() {
    long len = model.getGraph().getSerializedSize();
    for (WeightInitializer w : weights) {
      long t = tensorLength(metadataOnly(w).toByteArray(), w.data().byteSize());
      len +=
          CodedOutputStream.computeTagSize(INITIALIZER)
              + CodedOutputStream.computeUInt64SizeNoTag(t)
              + t;
    }
    return len;
  }

  private static long tensorLength(byte[] meta, long raw) {
    return meta.length
        + CodedOutputStream.computeTagSize(RAW_DATA)
        + CodedOutputStream.computeUInt64SizeNoTag(raw)
        + raw;
  }

  private static TensorProto metadataOnly(WeightInitializer w) {
    TensorProto.Builder t =
        TensorProto.newBuilder().setName(w.name()).setDataType(TensorProto.DataType.FLOAT_VALUE);
    for (long d : w.dims()) {
      t.addDims(d);
    }
    return t.build();
  }

  private static StringStringEntryProto entry(String key, String value) {
    return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
  }

  private static byte[] lengthDelimitedHeader(int field, long length) throws IOException {
    byte[] header =
        new byte
            [CodedOutputStream.computeTagSize(field)
                + CodedOutputStream.computeUInt64SizeNoTag(length)];
    CodedOutputStream c = CodedOutputStream.newInstance(header);
    c.writeTag(field, WireFormat.WIRETYPE_LENGTH_DELIMITED);
    c.writeUInt64NoTag(length);
    c.checkNoSpaceLeft();
    return header;
  }

  private static long align(long offset) {
    long rem = offset % EXTERNAL_DATA_ALIGNMENT;
    return rem == 0 ? offset : offset + EXTERNAL_DATA_ALIGNMENT - rem;
  }

  private static void writeZeros(WritableByteChannel out, long n) throws IOException {
    if (n > 0) {
      writeFully(out, new byte[Math.toIntExact(n)]);
    }
  }

  private static void writeFully(WritableByteChannel out, byte[] bytes) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    while (b.hasRemaining()) {
      out.write(b);
    }
  }
}
