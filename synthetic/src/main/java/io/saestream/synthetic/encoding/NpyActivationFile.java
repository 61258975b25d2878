package io.saestream.synthetic.encoding;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads activations recorded as a NumPy {@code .npy} file: a C-order 2-D array {@code [tokens,
 * d_in]} of little-endian float32 ({@code <f4}) or float16 ({@code <f2}), format version 1, 2 or 3,
 * as {@code numpy.save("acts.npy", acts.astype("<f4"))} writes it. Rows are read in order, a block
 * at a time, so files larger than the heap replay fine.
 *
 * <p>Owns an open file channel until {@link #close()}. Not thread-safe.
 */
public final class NpyActivationFile implements AutoCloseable {

  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
  private static final int MAX_HEADER_BYTES = 1 << 20;

  private final Path path;
  private final FileChannel channel;
  private final long rows;
  private final int dIn;
  private final int elementBytes;
  private long rowsRead;
  private ByteBuffer block = ByteBuffer.allocate(0);

  private NpyActivationFile(Path path, FileChannel channel, long rows, int dIn, int elementBytes) {
    this.path = path;
    this.channel = channel;
    this.rows = rows;
    this.dIn = dIn;
    this.elementBytes = elementBytes;
  }

  /**
   * Opens {@code path} and checks its header and size.
   *
   * @throws NpyFormatException if it is not a float32/float16 2-D C-order array of the size its
   *     header promises
   * @throws IOException if it cannot be read
   */
  public static NpyActivationFile open(Path path) throws IOException {
    Objects.requireNonNull(path, "path");
    FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
    try {
      return openChannel(path, channel);
    } catch (IOException | RuntimeException e) {
      try {
        channel.close();
      } catch (IOException closing) {
        e.addSuppressed(closing);
      }
      throw e;
    }
  }

  private static NpyActivationFile openChannel(Path path, FileChannel channel) throws IOException {
    ByteBuffer preamble = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
    readFully(channel, preamble, 0);
    preamble.flip();
    if (preamble.remaining() < 10) {
      throw new NpyFormatException(path, "too short to be a .npy file");
    }
    for (byte b : MAGIC) {
      if (preamble.get() != b) {
        throw new NpyFormatException(path, "not a .npy file (no \\x93NUMPY magic)");
      }
    }
    int major = preamble.get() & 0xff;
    preamble.get(); // minor version: no difference that matters here
    long headerLength;
    int headerStart;
    if (major == 1) {
      headerLength = preamble.getShort() & 0xffff;
      headerStart = 10;
    } else if (major == 2 || major == 3) {
      if (preamble.remaining() < 4) {
        throw new NpyFormatException(path, "truncated header");
      }
      headerLength = preamble.getInt() & 0xffff_ffffL;
      headerStart = 12;
    } else {
      throw new NpyFormatException(path, "unsupported .npy format version " + major);
    }
    if (headerLength > MAX_HEADER_BYTES) {
      throw new NpyFormatException(path, "header of " + headerLength + " bytes is implausible");
    }
    ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
    readFully(channel, headerBytes, headerStart);
    if (headerBytes.hasRemaining()) {
      throw new NpyFormatException(path, "truncated header");
    }
    String header = new String(headerBytes.array(), StandardCharsets.UTF_8);

    String descr = find(path, DESCR, header, "descr");
    int elementBytes;
    if (descr.equals("<f4")) {
      elementBytes = 4;
    } else if (descr.equals("<f2")) {
      elementBytes = 2;
    } else {
      throw new NpyFormatException(
          path,
          "dtype '"
              + descr
              + "' is not supported; save little-endian float32 ('<f4') or float16 ('<f2'),"
              + " e.g. numpy.save(path, acts.astype('<f4'))");
    }
    if (find(path, FORTRAN, header, "fortran_order").equals("True")) {
      throw new NpyFormatException(
          path, "is in Fortran order; save a C-order array (numpy.ascontiguousarray)");
    }
    String[] dims = find(path, SHAPE, header, "shape").split(",", -1);
    long[] shape = new long[dims.length];
    int n = 0;
    for (String dim : dims) {
      if (!dim.isBlank()) {
        try {
          shape[n++] = Long.parseLong(dim.strip());
        } catch (NumberFormatException e) {
          throw new NpyFormatException(path, "shape has a non-integer dimension '" + dim + "'");
        }
      }
    }
    if (n != 2) {
      throw new NpyFormatException(
          path, "must hold a 2-D array [tokens, d_in], has " + n + " dimensions");
    }
    if (shape[1] <= 0 || shape[1] > Integer.MAX_VALUE / 4) {
      throw new NpyFormatException(path, "d_in must be > 0, was " + shape[1]);
    }
    long dataStart = headerStart + headerLength;
    long expected = dataStart + shape[0] * shape[1] * elementBytes;
    long size = channel.size();
    if (size != expected) {
      throw new NpyFormatException(
          path,
          "header promises "
              + shape[0]
              + " × "
              + shape[1]
              + " elements of "
              + elementBytes
              + " bytes ("
              + expected
              + " bytes in all) but the file has "
              + size
              + " bytes"
              + (size < expected ? " (truncated?)" : ""));
    }
    channel.position(dataStart);
    return new NpyActivationFile(path, channel, shape[0], (int) shape[1], elementBytes);
  }

  /** The file being read. */
  public Path path() {
    return path;
  }

  /** Number of rows (tokens) in the file. */
  public long rows() {
    return rows;
  }

  /** Width of a row. */
  public int dIn() {
    return dIn;
  }

  /** Rows not read yet. */
  public long remainingRows() {
    return rows - rowsRead;
  }

  /**
   * Reads up to {@code maxRows} next rows into {@code dst}, row-major from index 0, as many as fit
   * and remain.
   *
   * @return the number of rows read; 0 once every row has been read
   */
  public int read(float[] dst, int maxRows) throws IOException {
    if (maxRows < 0) {
      throw new IllegalArgumentException("maxRows must be >= 0, was " + maxRows);
    }
    int want = (int) Math.min(Math.min(dst.length / dIn, maxRows), remainingRows());
    if (want == 0) {
      return 0;
    }
    int bytes = want * dIn * elementBytes;
    if (block.capacity() < bytes) {
      block = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }
    block.clear().limit(bytes);
    while (block.hasRemaining()) {
      if (channel.read(block) < 0) {
        throw new NpyFormatException(path, "ended early, after " + rowsRead + " rows");
      }
    }
    block.flip();
    if (elementBytes == 4) {
      block.asFloatBuffer().get(dst, 0, want * dIn);
    } else {
      short[] halves = new short[want * dIn];
      block.asShortBuffer().get(halves);
      ActivationCodec.halvesToFloats(halves, 0, dst, 0, halves.length);
    }
    rowsRead += want;
    return want;
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }

  /**
   * Writes {@code rows × dIn} floats as a version 1.0 {@code <f4} {@code .npy} file that NumPy
   * loads with {@code numpy.load}; replaces {@code path} atomically.
   */
  public static void write(Path path, float[] data, int rows, int dIn) throws IOException {
    Objects.requireNonNull(path, "path");
    if (rows < 0 || dIn <= 0 || (long) rows * dIn != data.length) {
      throw new IllegalArgumentException(
          "data must hold rows × d_in = "
              + rows
              + " × "
              + dIn
              + " floats (rows >= 0, d_in > 0), had "
              + data.length);
    }
    if (data.length > (Integer.MAX_VALUE - 1024) / 4) {
      throw new IllegalArgumentException(data.length + " floats do not fit one .npy write");
    }
    String dict =
        "{'descr': '<f4', 'fortran_order': False, 'shape': (" + rows + ", " + dIn + "), }";
    int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
    int padding = (64 - unpadded % 64) % 64;
    String header = dict + " ".repeat(padding) + "\n";
    ByteBuffer buffer =
        ByteBuffer.allocate(MAGIC.length + 4 + header.length() + data.length * 4)
            .order(ByteOrder.LITTLE_ENDIAN);
    buffer.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
    buffer.put(header.getBytes(StandardCharsets.US_ASCII));
    buffer.asFloatBuffer().put(data);
    Path parent = path.toAbsolutePath().getParent();
    Path tmp = Files.createTempFile(parent, path.getFileName().toString(), ".tmp");
    try {
      Files.write(tmp, buffer.array());
      Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static void readFully(FileChannel channel, ByteBuffer into, long position)
      throws IOException {
    long at = position;
    while (into.hasRemaining()) {
      int n = channel.read(into, at);
      if (n < 0) {
        return;
      }
      at += n;
    }
  }

  private static String find(Path path, Pattern pattern, String header, String key)
      throws NpyFormatException {
    Matcher m = pattern.matcher(header);
    if (!m.find()) {
      throw new NpyFormatException(
          path, "header has no valid '" + key + "' entry: " + header.strip());
    }
    return m.group(1);
  }

  @Override
  public String toString() {
    return "NpyActivationFile[" + path + ", " + rows + " × " + dIn + "]";
  }
}
