package io.saestream.sae.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsFileTest {

  @Test
  void readsFixtureHeadersIncludingZeroDimensionalF64() throws IOException {
    Path file =
        Fixtures.trainingCheckpoint("batchtopk_as_jumprelu").resolve(SaeCheckpoint.WEIGHTS_FILE);
    try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
      assertThat(f.tensors().keySet())
          .containsExactly("topk_threshold", "W_dec", "W_enc", "b_dec", "b_enc");
      SafeTensorsFile.MappedTensor theta = f.tensor("topk_threshold");
      assertThat(theta.dtype()).isEqualTo(DType.F64);
      assertThat(theta.shape()).isEmpty();
      assertThat(theta.numel()).isEqualTo(1);
      assertThat(theta.fileOffset()).isEqualTo(f.dataOffset());
      assertThat(f.dataOffset()).isEqualTo(8 + 336);
      assertThat(f.tensor("W_enc").shape()).containsExactly(32, 128);
      assertThat(f.tensor("W_enc").fileOffset()).isEqualTo(f.dataOffset() + 16392);
      assertThat(f.metadata()).isEmpty();
      double[] v = new double[1];
      theta.readDoubles(0, v, 0, 1);
      // topk_threshold_f64 in the fixture README: 4.9939 (to 5 significant digits)
      assertThat(v[0]).isCloseTo(4.9939, org.assertj.core.data.Offset.offset(5e-5));
      float[] asFloat = new float[1];
      theta.readFloats(0, asFloat, 0, 1);
      assertThat(asFloat[0]).isEqualTo((float) v[0]);
    }
  }

  /** A file whose tensors are not aligned to their element size within the file. */
  private Path mixedFile(Path tmp) throws IOException {
    // a: BF16 [3] (6 bytes), b: F32 [25], c: F64 [7], d: F16 [5]: b, c, d start misaligned.
    ByteBuffer data = ByteBuffer.allocate(6 + 100 + 56 + 10).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 3; i++) {
      data.putShort(HalfPrecision.floatToBf16(1.5f * (i + 1)));
    }
    for (int i = 0; i < 25; i++) {
      data.putFloat(i * 0.25f - 3);
    }
    for (int i = 0; i < 7; i++) {
      data.putDouble(Math.PI * (i + 1) * 1e-3);
    }
    for (int i = 0; i < 5; i++) {
      data.putShort(HalfPrecision.floatToF16(-0.125f * i));
    }
    String header =
        "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"mixed\"},"
            + "\"a\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,6]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[5,5],\"data_offsets\":[6,106]},"
            + "\"c\":{\"dtype\":\"F64\",\"shape\":[7],\"data_offsets\":[106,162]},"
            + "\"d\":{\"dtype\":\"F16\",\"shape\":[5],\"data_offsets\":[162,172]}}";
    Path file = tmp.resolve("mixed.safetensors");
    Files.write(file, CorruptCheckpoints.safetensors(header, data.array()));
    return file;
  }

  private static float[] expectedB() {
    float[] b = new float[25];
    for (int i = 0; i < 25; i++) {
      b[i] = i * 0.25f - 3;
    }
    return b;
  }

  @Test
  void everyChunkSizeReadsEveryRangeIdentically(@TempDir Path tmp) throws IOException {
    Path file = mixedFile(tmp);
    byte[] bytes = Files.readAllBytes(file);
    float[] b = expectedB();
    double[] c = new double[7];
    for (int i = 0; i < 7; i++) {
      c[i] = Math.PI * (i + 1) * 1e-3;
    }
    // 8..24 bytes split the 100-byte F32 tensor and the 56-byte F64 tensor into many mappings.
    for (long chunk : List.of(8L, 9L, 10L, 12L, 16L, 24L, 56L, 100L, 1L << 30)) {
      try (SafeTensorsFile f = SafeTensorsFile.open(file, chunk)) {
        assertThat(f.metadata())
            .containsExactly(
                java.util.Map.entry("format", "pt"), java.util.Map.entry("note", "mixed"));
        SafeTensorsFile.MappedTensor tb = f.tensor("b");
        for (int start = 0; start < 25; start++) {
          for (int len = 0; start + len <= 25; len++) {
            float[] got = new float[len + 2];
            tb.readFloats(start, got, 1, len);
            for (int i = 0; i < len; i++) {
              assertThat(got[1 + i]).as("chunk %d b[%d]", chunk, start + i).isEqualTo(b[start + i]);
            }
          }
        }
        SafeTensorsFile.MappedTensor tc = f.tensor("c");
        for (int start = 0; start < 7; start++) {
          double[] got = new double[7 - start];
          tc.readDoubles(start, got, 0, got.length);
          for (int i = 0; i < got.length; i++) {
            assertThat(got[i]).isEqualTo(c[start + i]);
          }
        }
        assertThat(f.tensor("a").toFloatArray()).containsExactly(1.5f, 3f, 4.5f);
        assertThat(f.tensor("d").toFloatArray())
            .containsExactly(-0f, -0.125f, -0.25f, -0.375f, -0.5f);
        for (String name : List.of("a", "b", "c", "d")) {
          SafeTensorsFile.MappedTensor t = f.tensor(name);
          ByteArrayOutputStream raw = new ByteArrayOutputStream();
          t.writeRaw(Channels.newChannel(raw));
          int from = (int) t.fileOffset();
          assertThat(raw.toByteArray())
              .as("chunk %d raw bytes of %s", chunk, name)
              .isEqualTo(java.util.Arrays.copyOfRange(bytes, from, from + (int) t.byteSize()));
        }
      }
    }
  }

  @Test
  void chunkSizeMustHoldTheWidestElement(@TempDir Path tmp) {
    assertThatThrownBy(() -> SafeTensorsFile.open(tmp.resolve("x"), 7))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("chunkBytes");
  }

  @Test
  void tensorsBeyondTwoGibibytesAreMappedInChunks(@TempDir Path tmp) throws IOException {
    // A sparse 3 GiB file: one F32 tensor of 3 GiB (larger than any ByteBuffer) and a small tail.
    long bigElements = 3L << 28;
    long bigBytes = bigElements * 4;
    String header =
        "{\"big\":{\"dtype\":\"F32\",\"shape\":[3,"
            + (bigElements / 3)
            + "],\"data_offsets\":[0,"
            + bigBytes
            + "]},\"tail\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":["
            + bigBytes
            + ","
            + (bigBytes + 8)
            + "]}}";
    byte[] prefix = CorruptCheckpoints.safetensors(header, new byte[0]);
    Path file = tmp.resolve("big.safetensors");
    long dataStart = prefix.length;
    long[] probes = {
      0, (1L << 28) - 1, 1L << 28, (1L << 29) + 7, (1L << 29) + (1L << 27), bigElements - 1
    };
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.write(prefix);
      raf.setLength(dataStart + bigBytes + 8);
      for (long i : probes) {
        raf.seek(dataStart + i * 4);
        raf.writeInt(Integer.reverseBytes(Float.floatToIntBits(i + 0.5f)));
      }
      raf.seek(dataStart + bigBytes);
      raf.writeInt(Integer.reverseBytes(Float.floatToIntBits(-1f)));
      raf.writeInt(Integer.reverseBytes(Float.floatToIntBits(-2f)));
    }
    try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
      SafeTensorsFile.MappedTensor big = f.tensor("big");
      assertThat(big.byteSize()).isEqualTo(bigBytes);
      for (long i : probes) {
        float[] got = new float[3];
        long start = Math.max(0, Math.min(i - 1, bigElements - 3));
        big.readFloats(start, got, 0, 3);
        assertThat(got[(int) (i - start)]).as("element %d", i).isEqualTo(i + 0.5f);
      }
      // A read crossing the 1 GiB chunk boundary.
      float[] across = new float[2];
      big.readFloats((1L << 28) - 1, across, 0, 2);
      assertThat(across).containsExactly((1L << 28) - 0.5f, (1L << 28) + 0.5f);
      assertThat(f.tensor("tail").toFloatArray()).containsExactly(-1f, -2f);
      assertThat(f.tensor("tail").fileOffset()).isEqualTo(dataStart + bigBytes);
    }
  }

  @Test
  void sha256DigestsTheWholeFile() throws Exception {
    Path file = Fixtures.sae("standard").resolve(SaeCheckpoint.WEIGHTS_FILE);
    String expected =
        HexFormat.of()
            .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
      assertThat(f.sha256()).isEqualTo(expected);
    }
  }

  @Test
  void tensorsCannotBeReadAfterClose(@TempDir Path tmp) throws IOException {
    SafeTensorsFile f = SafeTensorsFile.open(mixedFile(tmp));
    SafeTensorsFile.MappedTensor b = f.tensor("b");
    f.close();
    assertThatThrownBy(() -> b.readFloats(0, new float[1], 0, 1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
    assertThatThrownBy(() -> b.writeRaw(Channels.newChannel(new ByteArrayOutputStream())))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void readsOutsideTheTensorAreRejected(@TempDir Path tmp) throws IOException {
    try (SafeTensorsFile f = SafeTensorsFile.open(mixedFile(tmp))) {
      SafeTensorsFile.MappedTensor b = f.tensor("b");
      assertThatThrownBy(() -> b.readFloats(20, new float[10], 0, 6))
          .isInstanceOf(IndexOutOfBoundsException.class)
          .hasMessageContaining("'b'");
      assertThatThrownBy(() -> b.readFloats(0, new float[3], 0, 4))
          .isInstanceOf(IndexOutOfBoundsException.class);
      assertThatThrownBy(() -> f.tensor("nope"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("present: [a, b, c, d]");
    }
  }

  @Test
  void randomBytesNeverEscapeAsAnythingButCheckpointException(@TempDir Path tmp)
      throws IOException {
    Random r = new Random(7);
    byte[] valid = Files.readAllBytes(mixedFile(tmp));
    Path file = tmp.resolve("fuzz.safetensors");
    int refused = 0;
    for (int i = 0; i < 300; i++) {
      byte[] b = valid.clone();
      for (int k = 0; k < 1 + r.nextInt(4); k++) {
        b[r.nextInt(b.length)] = (byte) r.nextInt(256);
      }
      Files.write(file, b);
      try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
        f.tensors().values().forEach(Tensor::toFloatArray);
      } catch (CheckpointException e) {
        assertThat(e.file()).isEqualTo(file);
        refused++;
      }
    }
    assertThat(refused).isPositive();
  }

  // --- one test per structural defect --------------------------------------------------------

  private CheckpointException refusal(Path tmp, byte[] content) throws IOException {
    Path file = tmp.resolve("bad.safetensors");
    Files.write(file, content);
    try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
      throw new AssertionError("opened " + f);
    } catch (CheckpointException e) {
      assertThat(e.file()).isEqualTo(file);
      assertThat(e.getMessage()).startsWith(file + ": ");
      return e;
    }
  }

  private static byte[] file(String header, int dataBytes) {
    return CorruptCheckpoints.safetensors(header, new byte[dataBytes]);
  }

  @Test
  void missingFileIsRefused(@TempDir Path tmp) {
    Path file = tmp.resolve("absent.safetensors");
    assertThatThrownBy(() -> SafeTensorsFile.open(file))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("absent.safetensors: cannot open");
  }

  @Test
  void fileShorterThanTheLengthPrefixIsRefused(@TempDir Path tmp) throws IOException {
    assertThat(refusal(tmp, new byte[] {8, 0, 0}).problem())
        .contains("file is 3 bytes, too short for the 8-byte header length");
  }

  @Test
  void headerLengthBeyondTheFileIsRefused(@TempDir Path tmp) throws IOException {
    byte[] b = file("{}", 0);
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 4096);
    assertThat(refusal(tmp, b).problem())
        .contains("header length 4096 runs past the end of the file (16 bytes)");
  }

  @Test
  void hugeHeaderLengthIsRefused(@TempDir Path tmp) throws IOException {
    byte[] b = file("{}", 0);
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -2);
    assertThat(refusal(tmp, b).problem()).contains("header length 18446744073709551614 exceeds");
  }

  @Test
  void headerThatIsNotJsonIsRefused(@TempDir Path tmp) throws IOException {
    assertThat(refusal(tmp, file("{\"a\": }", 0)).problem()).contains("header is not valid JSON");
  }

  @Test
  void headerThatIsNotAnObjectIsRefused(@TempDir Path tmp) throws IOException {
    assertThat(refusal(tmp, file("[1, 2]", 0)).problem()).contains("header is not a JSON object");
  }

  @Test
  void duplicateTensorNamesAreRefused(@TempDir Path tmp) throws IOException {
    String e = "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
    assertThat(refusal(tmp, file("{\"a\":" + e + ",\"a\":" + e + "}", 4)).problem())
        .contains("header is not valid JSON")
        .contains("Duplicate field 'a'");
  }

  @Test
  void nonStringMetadataIsRefused(@TempDir Path tmp) throws IOException {
    assertThat(refusal(tmp, file("{\"__metadata__\":{\"step\":3}}", 0)).problem())
        .contains("__metadata__ must be an object of strings, but 'step' is 3");
  }

  @Test
  void unsupportedDtypeIsRefused(@TempDir Path tmp) throws IOException {
    assertThat(
            refusal(
                    tmp,
                    file("{\"ids\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8))
                .problem())
        .isEqualTo("tensor 'ids' has unsupported dtype I32 (supported: F64, F32, F16, BF16)");
  }

  @Test
  void negativeShapeIsRefused(@TempDir Path tmp) throws IOException {
    assertThat(
            refusal(
                    tmp,
                    file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4))
                .problem())
        .contains("tensor 'a': \"shape\" must be an array of non-negative integers, was [-1]");
  }

  @Test
  void reversedOffsetsAreRefused(@TempDir Path tmp) throws IOException {
    assertThat(
            refusal(
                    tmp,
                    file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4))
                .problem())
        .contains("tensor 'a': \"data_offsets\" must be [begin, end] with 0 <= begin <= end");
  }

  @Test
  void offsetsDisagreeingWithShapeAreRefused(@TempDir Path tmp) throws IOException {
    String h = "{\"W_enc\":{\"dtype\":\"F32\",\"shape\":[32,64],\"data_offsets\":[0,4096]}}";
    assertThat(refusal(tmp, file(h, 4096)).problem())
        .isEqualTo(
            "tensor 'W_enc' data_offsets [0, 4096] hold 4096 bytes but F32 [32, 64] needs 8192");
  }

  @Test
  void shapeOverflowIsRefused(@TempDir Path tmp) throws IOException {
    String h =
        "{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}";
    assertThat(refusal(tmp, file(h, 8)).problem()).contains("overflows a 64-bit size");
  }

  @Test
  void offsetsPastTheDataSectionAreRefused(@TempDir Path tmp) throws IOException {
    String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
    assertThat(refusal(tmp, file(h, 12)).problem())
        .contains(
            "tensor 'a' data_offsets [0, 16] extend past the end of the data section (12 bytes)");
  }

  @Test
  void overlappingTensorsAreRefused(@TempDir Path tmp) throws IOException {
    String h =
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}";
    assertThat(refusal(tmp, file(h, 24)).problem())
        .isEqualTo("tensors 'a' [0, 16] and 'b' [8, 24] overlap");
  }

  @Test
  void bytesBetweenTensorsAreRefused(@TempDir Path tmp) throws IOException {
    String h =
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[24,40]}}";
    assertThat(refusal(tmp, file(h, 40)).problem())
        .contains("bytes [16, 24) of the data section belong to no tensor");
  }

  @Test
  void trailingBytesAreRefused(@TempDir Path tmp) throws IOException {
    String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
    assertThat(refusal(tmp, file(h, 20)).problem())
        .contains("the data section has 20 bytes but the tensors end at 16");
  }

  @Test
  void emptyTensorsAreAccepted(@TempDir Path tmp) throws IOException {
    String h =
        "{\"empty\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[0,0]},"
            + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    Path file = tmp.resolve("empty.safetensors");
    Files.write(file, file(h, 4));
    try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
      assertThat(f.tensor("empty").toFloatArray()).isEmpty();
      assertThat(f.tensor("a").toFloatArray()).containsExactly(0f);
    }
  }
}
