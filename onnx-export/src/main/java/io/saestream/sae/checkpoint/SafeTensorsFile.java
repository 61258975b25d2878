package io.saestream.sae.checkpoint;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A safetensors file opened read-only and memory-mapped: the header is parsed and validated as
 * strictly as the reference safetensors library does, and every tensor is a {@link MappedTensor}
 * view of the mapping (nothing is copied onto the heap).
 *
 * <p>Files and single tensors may exceed 2 GiB: the data section is mapped in chunks of at most 1
 * GiB. A chunk holds whole tensors where they fit; a larger tensor is split at element boundaries,
 * so no element ever straddles two chunks.
 *
 * <p>The caller owns the instance and must {@link #close()} it; its tensors must not be used after
 * that (they throw {@link IllegalStateException}). Java cannot unmap a buffer explicitly, so the
 * address space is released when the mappings are garbage collected. Thread-safe.
 */
public final class SafeTensorsFile implements Closeable {

  /** The largest header accepted, the reference library's limit. */
  public static final long MAX_HEADER_BYTES = 100_000_000L;

  /** Largest mapping, a power of two well below the 2 GiB limit of a {@link ByteBuffer}. */
  static final long DEFAULT_CHUNK_BYTES = 1L << 30;

  private static final String METADATA_KEY = "__metadata__";

  private static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  private final Path path;
  private final FileChannel channel;
  private final long fileSize;
  private final long dataOffset;
  private final Map<String, String> metadata;
  private final Map<String, MappedTensor> tensors;
  private volatile boolean closed;

  private SafeTensorsFile(
      Path path,
      FileChannel channel,
      long fileSize,
      long dataOffset,
      Map<String, String> metadata,
      List<Entry> entries,
      long chunkBytes)
      throws IOException {
    this.path = path;
    this.channel = channel;
    this.fileSize = fileSize;
    this.dataOffset = dataOffset;
    this.metadata = Collections.unmodifiableMap(metadata);
    this.tensors = Collections.unmodifiableMap(map(entries, chunkBytes));
  }

  /**
   * Opens and validates {@code file}.
   *
   * @throws CheckpointException naming the file and the problem when it cannot be read or is not a
   *     valid safetensors file of F64/F32/F16/BF16 tensors
   */
  public static SafeTensorsFile open(Path file) {
    return open(file, DEFAULT_CHUNK_BYTES);
  }

  /** {@link #open(Path)} with a chunk size for tests of the chunking (8 bytes to 1 GiB). */
  static SafeTensorsFile open(Path file, long chunkBytes) {
    if (chunkBytes < 8 || chunkBytes > DEFAULT_CHUNK_BYTES) {
      throw new IllegalArgumentException("chunkBytes must be in [8, 2^30], was " + chunkBytes);
    }
    FileChannel channel;
    try {
      channel = FileChannel.open(file, StandardOpenOption.READ);
    } catch (IOException e) {
      throw new CheckpointException(file, "cannot open: " + e, e);
    }
    try {
      long size = channel.size();
      if (size < 8) {
        throw new CheckpointException(
            file,
            "file is "
                + size
                + " bytes, too short for the 8-byte header length prefix: truncated or not a"
                + " safetensors file");
      }
      byte[] prefix = readFully(channel, 0, 8);
      long n = ByteBuffer.wrap(prefix).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
      if (n < 0 || n > MAX_HEADER_BYTES) {
        throw new CheckpointException(
            file,
            "header length "
                + Long.toUnsignedString(n)
                + " exceeds the "
                + MAX_HEADER_BYTES
                + "-byte limit: not a safetensors file");
      }
      if (8 + n > size) {
        throw new CheckpointException(
            file,
            "header length "
                + n
                + " runs past the end of the file ("
                + size
                + " bytes): truncated or not a safetensors file");
      }
      byte[] headerBytes = readFully(channel, 8, (int) n);
      long dataSize = size - 8 - n;
      Header header = parseHeader(file, headerBytes, dataSize);
      return new SafeTensorsFile(
          file, channel, size, 8 + n, header.metadata, header.entries, chunkBytes);
    } catch (IOException e) {
      closeAfterFailure(channel, e);
      throw new CheckpointException(file, "cannot read: " + e, e);
    } catch (RuntimeException e) {
      closeAfterFailure(channel, e);
      throw e;
    }
  }

  /** The file this was opened from. */
  public Path path() {
    return path;
  }

  /** Size of the file in bytes. */
  public long fileSize() {
    return fileSize;
  }

  /** File position of the first byte of the data section ({@code 8 + header length}). */
  public long dataOffset() {
    return dataOffset;
  }

  /** The {@code __metadata__} map, in header order; empty when the header has none. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** The tensors, in data-section order (for files written by safetensors, header order). */
  public Map<String, MappedTensor> tensors() {
    return tensors;
  }

  /**
   * The tensor called {@code name}.
   *
   * @throws IllegalArgumentException when absent, listing the tensors present
   */
  public MappedTensor tensor(String name) {
    MappedTensor t = tensors.get(name);
    if (t == null) {
      throw new IllegalArgumentException(
          "no tensor '" + name + "' in " + path + "; present: " + tensors.keySet());
    }
    return t;
  }

  /**
   * The SHA-256 of the whole file as lowercase hex, read through the open channel (so it describes
   * the bytes this instance maps even if the path has since been replaced).
   */
  public String sha256() {
    checkOpen();
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
    ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
    long pos = 0;
    try {
      while (pos < fileSize) {
        buf.clear();
        if (fileSize - pos < buf.capacity()) {
          buf.limit((int) (fileSize - pos));
        }
        int r = channel.read(buf, pos);
        if (r < 0) {
          throw new CheckpointException(
              path, "file shrank to " + pos + " bytes while it was open (was " + fileSize + ")");
        }
        buf.flip();
        digest.update(buf);
        pos += r;
      }
    } catch (IOException e) {
      throw new CheckpointException(path, "cannot read: " + e, e);
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  /** Closes the file; tensors of this file throw {@link IllegalStateException} afterwards. */
  @Override
  public void close() throws IOException {
    closed = true;
    channel.close();
  }

  @Override
  public String toString() {
    return "SafeTensorsFile[" + path + ", " + tensors.size() + " tensors]";
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException(path + " is closed");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Header parsing and validation

  /** One validated header entry; offsets are relative to the data section. */
  private static final class Entry {
    final String name;
    final DType dtype;
    final long[] shape;
    final long begin;
    final long end;

    Entry(String name, DType dtype, long[] shape, long begin, long end) {
      this.name = name;
      this.dtype = dtype;
      this.shape = shape;
      this.begin = begin;
      this.end = end;
    }
  }

  private record Header(Map<String, String> metadata, List<Entry> entries) {}

  private static Header parseHeader(Path file, byte[] bytes, long dataSize) {
    JsonNode root;
    try {
      root = MAPPER.readTree(bytes);
    } catch (JacksonException e) {
      throw new CheckpointException(file, "header is not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new CheckpointException(file, "header cannot be parsed: " + e, e);
    }
    if (root == null || !root.isObject()) {
      throw new CheckpointException(file, "header is not a JSON object");
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    List<Entry> entries = new ArrayList<>();
    for (Map.Entry<String, JsonNode> field : root.properties()) {
      String name = field.getKey();
      JsonNode value = field.getValue();
      if (name.equals(METADATA_KEY)) {
        parseMetadata(file, value, metadata);
      } else {
        entries.add(parseEntry(file, name, value, dataSize));
      }
    }
    checkCoverage(file, entries, dataSize);
    return new Header(metadata, entries);
  }

  private static void parseMetadata(Path file, JsonNode value, Map<String, String> out) {
    if (!value.isObject()) {
      throw new CheckpointException(
          file, "__metadata__ must be an object of strings, was " + value.getNodeType());
    }
    for (Map.Entry<String, JsonNode> e : value.properties()) {
      if (!e.getValue().isTextual()) {
        throw new CheckpointException(
            file,
            "__metadata__ must be an object of strings, but '"
                + e.getKey()
                + "' is "
                + e.getValue());
      }
      out.put(e.getKey(), e.getValue().asText());
    }
  }

  private static Entry parseEntry(Path file, String name, JsonNode value, long dataSize) {
    String what = "tensor '" + name + "'";
    if (!value.isObject()) {
      throw new CheckpointException(file, what + ": header entry is not an object: " + value);
    }
    JsonNode dt = value.get("dtype");
    if (dt == null || !dt.isTextual()) {
      throw new CheckpointException(file, what + ": \"dtype\" must be a string, was " + dt);
    }
    DType dtype;
    try {
      dtype = DType.fromSafetensorsName(dt.asText());
    } catch (IllegalArgumentException e) {
      throw new CheckpointException(
          file,
          what + " has unsupported dtype " + dt.asText() + " (supported: F64, F32, F16, BF16)",
          e);
    }
    long[] shape = nonNegativeLongs(value.get("shape"));
    if (shape == null) {
      throw new CheckpointException(
          file,
          what
              + ": \"shape\" must be an array of non-negative integers, was "
              + value.get("shape"));
    }
    long[] offsets = nonNegativeLongs(value.get("data_offsets"));
    if (offsets == null || offsets.length != 2 || offsets[0] > offsets[1]) {
      throw new CheckpointException(
          file,
          what
              + ": \"data_offsets\" must be [begin, end] with 0 <= begin <= end, was "
              + value.get("data_offsets"));
    }
    long begin = offsets[0];
    long end = offsets[1];
    String range = "[" + begin + ", " + end + "]";
    if (end > dataSize) {
      throw new CheckpointException(
          file,
          what
              + " data_offsets "
              + range
              + " extend past the end of the data section ("
              + dataSize
              + " bytes): truncated file or corrupt header");
    }
    long needed;
    try {
      long numel = 1;
      for (long d : shape) {
        numel = Math.multiplyExact(numel, d);
      }
      needed = Math.multiplyExact(numel, (long) dtype.byteSize());
    } catch (ArithmeticException e) {
      throw new CheckpointException(
          file, what + " shape " + Arrays.toString(shape) + " overflows a 64-bit size", e);
    }
    if (end - begin != needed) {
      throw new CheckpointException(
          file,
          what
              + " data_offsets "
              + range
              + " hold "
              + (end - begin)
              + " bytes but "
              + dtype
              + " "
              + Arrays.toString(shape)
              + " needs "
              + needed);
    }
    return new Entry(name, dtype, shape, begin, end);
  }

  private static long @Nullable [] nonNegativeLongs(@Nullable JsonNode node) {
    if (node == null || !node.isArray()) {
      return null;
    }
    long[] out = new long[node.size()];
    for (int i = 0; i < out.length; i++) {
      JsonNode v = node.get(i);
      if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
        return null;
      }
      out[i] = v.asLong();
    }
    return out;
  }

  /** Sorts by offset and requires the tensors to tile the data section exactly. */
  private static void checkCoverage(Path file, List<Entry> entries, long dataSize) {
    entries.sort(Comparator.comparingLong((Entry e) -> e.begin).thenComparingLong(e -> e.end));
    long covered = 0;
    Entry previous = null;
    for (Entry e : entries) {
      if (e.begin < covered) {
        Entry p = Objects.requireNonNull(previous);
        throw new CheckpointException(
            file,
            "tensors '"
                + p.name
                + "' ["
                + p.begin
                + ", "
                + p.end
                + "] and '"
                + e.name
                + "' ["
                + e.begin
                + ", "
                + e.end
                + "] overlap");
      }
      if (e.begin > covered) {
        throw new CheckpointException(
            file,
            "bytes ["
                + covered
                + ", "
                + e.begin
                + ") of the data section belong to no tensor (gap before '"
                + e.name
                + "')");
      }
      covered = e.end;
      previous = e;
    }
    if (covered != dataSize) {
      throw new CheckpointException(
          file,
          "the data section has "
              + dataSize
              + " bytes but the tensors end at "
              + covered
              + ": "
              + (dataSize - covered)
              + " trailing bytes belong to no tensor");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Mapping

  /** A piece of a tensor's bytes inside one mapped chunk. */
  private record Piece(Entry entry, long tensorByteStart, long dataStart, long length) {}

  private Map<String, MappedTensor> map(List<Entry> entries, long chunkBytes) throws IOException {
    // Plan chunks [start, end) over the data section, then map each once.
    List<long[]> chunks = new ArrayList<>();
    List<List<Piece>> chunkPieces = new ArrayList<>();
    for (Entry e : entries) {
      long len = e.end - e.begin;
      if (len == 0) {
        continue;
      }
      long[] open = chunks.isEmpty() ? null : chunks.get(chunks.size() - 1);
      if (open != null && e.end - open[0] <= chunkBytes) {
        open[1] = e.end;
        chunkPieces.get(chunkPieces.size() - 1).add(new Piece(e, 0, e.begin, len));
        continue;
      }
      // Split at element boundaries, relative to the tensor start, so no element straddles.
      long step = chunkBytes - chunkBytes % e.dtype.byteSize();
      for (long off = 0; off < len; off += step) {
        long pieceLen = Math.min(step, len - off);
        chunks.add(new long[] {e.begin + off, e.begin + off + pieceLen});
        List<Piece> pieces = new ArrayList<>();
        pieces.add(new Piece(e, off, e.begin + off, pieceLen));
        chunkPieces.add(pieces);
      }
    }
    Map<Entry, List<MappedTensor.Segment>> segments = new LinkedHashMap<>();
    for (int c = 0; c < chunks.size(); c++) {
      long[] chunk = chunks.get(c);
      MappedByteBuffer buffer =
          channel.map(FileChannel.MapMode.READ_ONLY, dataOffset + chunk[0], chunk[1] - chunk[0]);
      for (Piece p : chunkPieces.get(c)) {
        segments
            .computeIfAbsent(p.entry, k -> new ArrayList<>())
            .add(
                new MappedTensor.Segment(
                    buffer, (int) (p.dataStart - chunk[0]), p.tensorByteStart, (int) p.length));
      }
    }
    Map<String, MappedTensor> out = new LinkedHashMap<>();
    for (Entry e : entries) {
      List<MappedTensor.Segment> segs = segments.getOrDefault(e, List.of());
      out.put(
          e.name,
          new MappedTensor(
              this,
              e.name,
              e.dtype,
              e.shape,
              dataOffset + e.begin,
              segs.toArray(new MappedTensor.Segment[0])));
    }
    return out;
  }

  private static byte[] readFully(FileChannel channel, long position, int length)
      throws IOException {
    byte[] out = new byte[length];
    ByteBuffer buf = ByteBuffer.wrap(out);
    long pos = position;
    while (buf.hasRemaining()) {
      int r = channel.read(buf, pos);
      if (r < 0) {
        throw new IOException("unexpected end of file at byte " + pos);
      }
      pos += r;
    }
    return out;
  }

  private static void closeAfterFailure(FileChannel channel, Exception primary) {
    try {
      channel.close();
    } catch (IOException e) {
      primary.addSuppressed(e);
    }
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * A tensor stored in a {@link SafeTensorsFile}, read straight from the mapping. Valid while its
   * file is open; thread-safe (reads use absolute slices, never shared buffer positions).
   */
  public static final class MappedTensor implements Tensor {

    /** {@code length} bytes of the tensor, from tensor byte {@code tensorStart}, in a mapping. */
    private record Segment(ByteBuffer buffer, int bufferOffset, long tensorStart, int length) {}

    private static final int BLOCK = 1 << 13;

    private final SafeTensorsFile file;
    private final String name;
    private final DType dtype;
    private final long[] shape;
    private final long numel;
    private final long fileOffset;
    private final Segment[] segments;

    private MappedTensor(
        SafeTensorsFile file,
        String name,
        DType dtype,
        long[] shape,
        long fileOffset,
        Segment[] segments) {
      this.file = file;
      this.name = name;
      this.dtype = dtype;
      this.shape = shape.clone();
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      this.numel = n;
      this.fileOffset = fileOffset;
      this.segments = segments;
    }

    /** The tensor's name in the file. */
    public String name() {
      return name;
    }

    /** The file the tensor is stored in. */
    public Path file() {
      return file.path;
    }

    /**
     * Position of the tensor's first byte in the file; with {@link #byteSize()} this is what an
     * ONNX external-data entry pointing into the safetensors file needs.
     */
    public long fileOffset() {
      return fileOffset;
    }

    @Override
    public DType dtype() {
      return dtype;
    }

    @Override
    public long[] shape() {
      return shape;
    }

    @Override
    public long numel() {
      return numel;
    }

    @Override
    public void readFloats(long start, float[] dst, int dstOffset, int length) {
      checkRead(start, dst.length, dstOffset, length);
      int esz = dtype.byteSize();
      long pos = start * esz;
      int done = 0;
      for (int s = segmentAt(pos); done < length; s++) {
        Segment seg = segments[s];
        int inSeg = (int) (pos - seg.tensorStart);
        int n = Math.min(length - done, (seg.length - inSeg) / esz);
        ByteBuffer bytes =
            seg.buffer.slice(seg.bufferOffset + inSeg, n * esz).order(ByteOrder.LITTLE_ENDIAN);
        decodeFloats(bytes, dst, dstOffset + done, n);
        done += n;
        pos += (long) n * esz;
      }
    }

    @Override
    public void readDoubles(long start, double[] dst, int dstOffset, int length) {
      if (dtype != DType.F64) {
        Tensor.super.readDoubles(start, dst, dstOffset, length);
        return;
      }
      checkRead(start, dst.length, dstOffset, length);
      long pos = start * 8;
      int done = 0;
      for (int s = segmentAt(pos); done < length; s++) {
        Segment seg = segments[s];
        int inSeg = (int) (pos - seg.tensorStart);
        int n = Math.min(length - done, (seg.length - inSeg) / 8);
        seg.buffer
            .slice(seg.bufferOffset + inSeg, n * 8)
            .order(ByteOrder.LITTLE_ENDIAN)
            .asDoubleBuffer()
            .get(dst, dstOffset + done, n);
        done += n;
        pos += (long) n * 8;
      }
    }

    @Override
    public void writeRaw(WritableByteChannel out) throws IOException {
      file.checkOpen();
      for (Segment seg : segments) {
        ByteBuffer bytes = seg.buffer.slice(seg.bufferOffset, seg.length);
        while (bytes.hasRemaining()) {
          out.write(bytes);
        }
      }
    }

    private void decodeFloats(ByteBuffer bytes, float[] dst, int off, int n) {
      switch (dtype) {
        case F32 -> bytes.asFloatBuffer().get(dst, off, n);
        case F64 -> {
          double[] block = new double[Math.min(n, BLOCK)];
          var in = bytes.asDoubleBuffer();
          for (int done = 0; done < n; ) {
            int m = Math.min(block.length, n - done);
            in.get(block, 0, m);
            for (int i = 0; i < m; i++) {
              dst[off + done + i] = (float) block[i];
            }
            done += m;
          }
        }
        case F16, BF16 -> {
          short[] block = new short[Math.min(n, BLOCK)];
          var in = bytes.asShortBuffer();
          boolean f16 = dtype == DType.F16;
          for (int done = 0; done < n; ) {
            int m = Math.min(block.length, n - done);
            in.get(block, 0, m);
            for (int i = 0; i < m; i++) {
              dst[off + done + i] =
                  f16 ? HalfPrecision.f16ToFloat(block[i]) : HalfPrecision.bf16ToFloat(block[i]);
            }
            done += m;
          }
        }
      }
    }

    private void checkRead(long start, int dstLength, int dstOffset, int length) {
      file.checkOpen();
      Objects.checkFromIndexSize(dstOffset, length, dstLength);
      if (start < 0 || length < 0 || start > numel - length) {
        throw new IndexOutOfBoundsException(
            "elements ["
                + start
                + ", "
                + (start + length)
                + ") out of range for tensor '"
                + name
                + "' of "
                + numel
                + " elements");
      }
    }

    /** Index of the segment holding tensor byte {@code pos}. */
    private int segmentAt(long pos) {
      int lo = 0;
      int hi = segments.length - 1;
      while (lo < hi) {
        int mid = (lo + hi + 1) >>> 1;
        if (segments[mid].tensorStart <= pos) {
          lo = mid;
        } else {
          hi = mid - 1;
        }
      }
      return lo;
    }

    @Override
    public String toString() {
      return "MappedTensor[" + name + ": " + dtype + Arrays.toString(shape) + "]";
    }
  }
}
