package io.saestream.sae.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsWriterTest {

  @Test
  void rewritingEveryFixtureWeightsFileReproducesItByteForByte(@TempDir Path tmp)
      throws IOException {
    for (Path dir : Fixtures.checkpointDirs()) {
      Path original = dir.resolve(SaeCheckpoint.WEIGHTS_FILE);
      Path copy = tmp.resolve(Fixtures.label(dir));
      try (SafeTensorsFile f = SafeTensorsFile.open(original)) {
        // Reverse the map order: the layout must come from the writer, not the input order.
        Map<String, Tensor> reversed = new LinkedHashMap<>();
        List<String> names = List.copyOf(f.tensors().keySet());
        for (int i = names.size() - 1; i >= 0; i--) {
          reversed.put(names.get(i), f.tensor(names.get(i)));
        }
        SafeTensorsWriter.write(copy, reversed);
        assertThat(SafeTensorsWriter.size(reversed, Map.of())).isEqualTo(Files.size(original));
      }
      assertThat(Files.readAllBytes(copy))
          .as("%s", original)
          .isEqualTo(Files.readAllBytes(original));
    }
  }

  /** Test vectors of the reference library's own tests ({@code safetensors/src/tensor.rs}). */
  @Test
  void matchesTheReferenceLibrarysTestVectors() throws IOException {
    assertThat(bytes(Map.of(), Map.of()))
        .isEqualTo(new byte[] {8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '});
    byte[] withMetadata = bytes(Map.of(), Map.of("framework", "pt"));
    assertThat(withMetadata[0]).isEqualTo((byte) 40);
    assertThat(new String(withMetadata, 8, 40, StandardCharsets.UTF_8))
        .isEqualTo("{\"__metadata__\":{\"framework\":\"pt\"}}     ");
    float[] six = {0, 1, 2, 3, 4, 5};
    byte[] attn = bytes(Map.of("attn0", FloatTensor.of(six, 1, 1, 2, 3)), Map.of());
    assertThat(attn[0]).isEqualTo((byte) 72);
    assertThat(new String(attn, 8, 72, StandardCharsets.UTF_8))
        .isEqualTo(
            "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ");
    assertThat(Arrays.copyOfRange(attn, 80, 88)).containsExactly(0, 0, 0, 0, 0, 0, (byte) 128, 63);
  }

  @Test
  void ordersByDtypeWidestFirstThenByUtf8Name(@TempDir Path tmp) throws IOException {
    Map<String, Tensor> t = new LinkedHashMap<>();
    t.put("z16", fixed(DType.F16, 3));
    t.put("a16", fixed(DType.F16, 1));
    t.put("bf", fixed(DType.BF16, 1));
    t.put("é32", fixed(DType.F32, 1));
    t.put("z32", fixed(DType.F32, 1));
    t.put("B32", fixed(DType.F32, 2));
    t.put("x64", fixed(DType.F64, 1));
    byte[] b = bytes(t, Map.of("k", "v\"\n"));
    int n = (int) ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0);
    assertThat(n % 8).isZero();
    String header = new String(b, 8, n, StandardCharsets.UTF_8).stripTrailing();
    assertThat(header)
        .isEqualTo(
            "{\"__metadata__\":{\"k\":\"v\\\"\\n\"},"
                + "\"x64\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                + "\"B32\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
                + "\"z32\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[16,20]},"
                + "\"é32\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[20,24]},"
                + "\"bf\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[24,26]},"
                + "\"a16\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[26,28]},"
                + "\"z16\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[28,34]}}");
    // And it reads back: the reader accepts what the writer writes, metadata included.
    Path file = tmp.resolve("ordered.safetensors");
    Files.write(file, b);
    try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
      assertThat(f.metadata()).containsEntry("k", "v\"\n");
      assertThat(f.tensors().keySet())
          .containsExactly("x64", "B32", "z32", "é32", "bf", "a16", "z16");
      assertThat(f.tensor("z16").toFloatArray()).containsExactly(0.5f, 0.5f, 0.5f);
    }
  }

  @Test
  void aTensorFailingMidWriteLeavesTheTargetUntouchedAndNoTemporaryFile(@TempDir Path tmp)
      throws IOException {
    Path file = tmp.resolve("sae_weights.safetensors");
    Files.writeString(file, "previous content");
    Tensor failing =
        new FixedTensor(DType.F32, 1 << 20, 1f) {
          @Override
          public void writeRaw(WritableByteChannel out) throws IOException {
            out.write(ByteBuffer.allocate(4096));
            throw new IOException("disk full");
          }
        };
    assertThatThrownBy(
            () -> SafeTensorsWriter.write(file, Map.of("a", fixed(DType.F32, 4), "b", failing)))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("sae_weights.safetensors: cannot write")
        .hasMessageContaining("disk full");
    assertThat(Files.readString(file)).isEqualTo("previous content");
    try (Stream<Path> files = Files.list(tmp)) {
      assertThat(files).containsExactly(file);
    }
  }

  @Test
  void aTensorWritingTheWrongNumberOfBytesIsCaught(@TempDir Path tmp) throws IOException {
    Path file = tmp.resolve("short.safetensors");
    Tensor lying =
        new FixedTensor(DType.F32, 4, 1f) {
          @Override
          public void writeRaw(WritableByteChannel out) throws IOException {
            out.write(ByteBuffer.allocate(12));
          }
        };
    assertThatThrownBy(() -> SafeTensorsWriter.write(file, Map.of("a", lying)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("tensor 'a'")
        .hasMessageContaining("wrote 12 bytes, expected 16");
    try (Stream<Path> files = Files.list(tmp)) {
      assertThat(files).isEmpty();
    }
  }

  @Test
  void aTensorNamedLikeTheMetadataKeyIsRejected(@TempDir Path tmp) {
    assertThatThrownBy(
            () ->
                SafeTensorsWriter.write(
                    tmp.resolve("x"), Map.of("__metadata__", fixed(DType.F32, 1))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("__metadata__");
  }

  @Test
  void aMissingDirectoryIsACheckpointException(@TempDir Path tmp) {
    Path file = tmp.resolve("no/such/dir/w.safetensors");
    assertThatThrownBy(() -> SafeTensorsWriter.write(file, Map.of("a", fixed(DType.F32, 1))))
        .isInstanceOf(CheckpointException.class)
        .hasMessageStartingWith(file + ": cannot write");
  }

  private static byte[] bytes(Map<String, ? extends Tensor> tensors, Map<String, String> metadata)
      throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long n = SafeTensorsWriter.writeTo(Channels.newChannel(out), tensors, metadata);
    assertThat(n).isEqualTo(out.size()).isEqualTo(SafeTensorsWriter.size(tensors, metadata));
    return out.toByteArray();
  }

  private static Tensor fixed(DType dtype, int n) {
    return new FixedTensor(dtype, n, 0.5f);
  }

  /** A vector of one value in any dtype, written by hand. */
  private static class FixedTensor implements Tensor {
    private final DType dtype;
    private final long[] shape;
    private final float value;

    FixedTensor(DType dtype, int n, float value) {
      this.dtype = dtype;
      this.shape = new long[] {n};
      this.value = value;
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
    public void readFloats(long start, float[] dst, int dstOffset, int length) {
      Arrays.fill(dst, dstOffset, dstOffset + length, value);
    }

    @Override
    public void writeRaw(WritableByteChannel out) throws IOException {
      ByteBuffer b = ByteBuffer.allocate((int) byteSize()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < numel(); i++) {
        switch (dtype) {
          case F64 -> b.putDouble(value);
          case F32 -> b.putFloat(value);
          case F16 -> b.putShort(HalfPrecision.floatToF16(value));
          case BF16 -> b.putShort(HalfPrecision.floatToBf16(value));
        }
      }
      b.flip();
      while (b.hasRemaining()) {
        out.write(b);
      }
    }
  }
}
