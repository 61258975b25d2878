package io.saestream.sae.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Writes safetensors files byte for byte as the reference safetensors library ({@code save_file},
 * used by sae-lens) does: u64-LE header length; a compact JSON header with {@code __metadata__}
 * first (when given) and the tensors sorted by dtype, widest first (F64, F32, BF16, F16), then by
 * name (UTF-8 byte order); the header padded with spaces to a multiple of 8 bytes; then the tensor
 * data, contiguous, in the same order.
 *
 * <p>Tensors are streamed through {@link Tensor#writeRaw}, so a checkpoint larger than the heap can
 * be written. File output is atomic. Stateless and thread-safe.
 */
public final class SafeTensorsWriter {

  private static final String METADATA_KEY = "__metadata__";

  private SafeTensorsWriter() {}

  /** {@link #write(Path, Map, Map)} without {@code __metadata__}, as sae-lens writes. */
  public static void write(Path file, Map<String, ? extends Tensor> tensors) {
    write(file, tensors, Map.of());
  }

  /**
   * Writes {@code tensors} (and {@code metadata}, omitted from the header when empty) to {@code
   * file} atomically: a temporary sibling is written and synced, then renamed over {@code file}; on
   * failure it is deleted and {@code file} is left as it was.
   *
   * @throws CheckpointException naming {@code file} when it cannot be written
   * @throws IllegalArgumentException for a tensor called {@code __metadata__}
   */
  public static void write(
      Path file, Map<String, ? extends Tensor> tensors, Map<String, String> metadata) {
    List<Map.Entry<String, ? extends Tensor>> order = layout(tensors);
    byte[] header = header(order, metadata);
    try {
      Path tmp = AtomicFiles.writeTemp(file, ch -> writeBody(ch, header, order));
      try {
        AtomicFiles.commit(tmp, file);
      } catch (IOException | RuntimeException e) {
        AtomicFiles.deleteAfterFailure(tmp, e);
        throw e;
      }
      AtomicFiles.syncDirectory(AtomicFiles.parentOf(file));
    } catch (IOException e) {
      throw new CheckpointException(file, "cannot write: " + e, e);
    }
  }

  /**
   * Streams the safetensors bytes of {@code tensors} to {@code out} (not atomic: for sockets,
   * digests, chunkers).
   *
   * @return the number of bytes written
   */
  public static long writeTo(
      WritableByteChannel out, Map<String, ? extends Tensor> tensors, Map<String, String> metadata)
      throws IOException {
    List<Map.Entry<String, ? extends Tensor>> order = layout(tensors);
    return writeBody(out, header(order, metadata), order);
  }

  /** The number of bytes {@link #writeTo} writes. */
  public static long size(Map<String, ? extends Tensor> tensors, Map<String, String> metadata) {
    List<Map.Entry<String, ? extends Tensor>> order = layout(tensors);
    long n = 8L + header(order, metadata).length;
    for (Map.Entry<String, ? extends Tensor> e : order) {
      n += e.getValue().byteSize();
    }
    return n;
  }

  private static long writeBody(
      WritableByteChannel out, byte[] header, List<Map.Entry<String, ? extends Tensor>> order)
      throws IOException {
    ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    prefix.putLong(0, header.length);
    writeFully(out, prefix);
    writeFully(out, ByteBuffer.wrap(header));
    long total = 8L + header.length;
    CountingChannel counting = new CountingChannel(out);
    for (Map.Entry<String, ? extends Tensor> e : order) {
      Tensor t = e.getValue();
      long before = counting.count;
      t.writeRaw(counting);
      long written = counting.count - before;
      if (written != t.byteSize()) {
        throw new IllegalStateException(
            "tensor '"
                + e.getKey()
                + "' ("
                + t
                + ") wrote "
                + written
                + " bytes, expected "
                + t.byteSize());
      }
      total += written;
    }
    return total;
  }

  /** The tensors in safetensors order: dtype widest first, then name in UTF-8 byte order. */
  static List<Map.Entry<String, ? extends Tensor>> layout(Map<String, ? extends Tensor> tensors) {
    List<Map.Entry<String, ? extends Tensor>> order = new ArrayList<>(tensors.entrySet());
    for (Map.Entry<String, ? extends Tensor> e : order) {
      if (e.getKey().equals(METADATA_KEY)) {
        throw new IllegalArgumentException("a tensor cannot be called " + METADATA_KEY);
      }
    }
    order.sort(
        Comparator.comparingInt((Map.Entry<String, ? extends Tensor> e) -> rank(e.getValue()))
            .reversed()
            .thenComparing(
                (a, b) ->
                    Arrays.compareUnsigned(
                        a.getKey().getBytes(StandardCharsets.UTF_8),
                        b.getKey().getBytes(StandardCharsets.UTF_8))));
    return order;
  }

  /** The position of a dtype in the reference library's {@code Dtype} enum (its sort key). */
  private static int rank(Tensor t) {
    return switch (t.dtype()) {
      case F16 -> 0;
      case BF16 -> 1;
      case F32 -> 2;
      case F64 -> 3;
    };
  }

  /** The padded header JSON (without the length prefix). */
  static byte[] header(
      List<Map.Entry<String, ? extends Tensor>> order, Map<String, String> metadata) {
    StringBuilder sb = new StringBuilder("{");
    boolean first = true;
    if (!metadata.isEmpty()) {
      quote(sb, METADATA_KEY);
      sb.append(":{");
      boolean firstMeta = true;
      for (Map.Entry<String, String> m : metadata.entrySet()) {
        if (!firstMeta) {
          sb.append(',');
        }
        firstMeta = false;
        quote(sb, m.getKey());
        sb.append(':');
        quote(sb, m.getValue());
      }
      sb.append('}');
      first = false;
    }
    long offset = 0;
    for (Map.Entry<String, ? extends Tensor> e : order) {
      Tensor t = e.getValue();
      if (!first) {
        sb.append(',');
      }
      first = false;
      quote(sb, e.getKey());
      sb.append(":{\"dtype\":\"").append(t.dtype().name()).append("\",\"shape\":[");
      long[] shape = t.shape();
      for (int i = 0; i < shape.length; i++) {
        if (i > 0) {
          sb.append(',');
        }
        sb.append(shape[i]);
      }
      long end = offset + t.byteSize();
      sb.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
      offset = end;
    }
    sb.append('}');
    byte[] json = sb.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) & ~7;
    byte[] out = Arrays.copyOf(json, padded);
    Arrays.fill(out, json.length, padded, (byte) ' ');
    return out;
  }

  private static void quote(StringBuilder sb, String s) {
    JsonStrings.quote(sb, s, JsonStrings.Escaping.CONTROLS_ONLY);
  }

  private static void writeFully(WritableByteChannel out, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      out.write(buf);
    }
  }

  /** Counts the bytes a tensor writes, to catch a {@link Tensor#writeRaw} that lies. */
  private static final class CountingChannel implements WritableByteChannel {
    private final WritableByteChannel out;
    private long count;

    CountingChannel(WritableByteChannel out) {
      this.out = out;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      int n = out.write(src);
      count += n;
      return n;
    }

    @Override
    public boolean isOpen() {
      return out.isOpen();
    }

    @Override
    public void close() throws IOException {
      // The tensor does not own the channel; closing it here would cut the file short.
      throw new IOException("a tensor must not close the output channel");
    }
  }
}
