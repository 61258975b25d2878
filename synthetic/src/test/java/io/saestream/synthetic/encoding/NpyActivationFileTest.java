package io.saestream.synthetic.encoding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NpyActivationFileTest {

  private static final float[] NUMPY_VALUES = {-1.25f, -0.75f, -0.25f, 0.25f, 0.75f, 1.25f};

  @TempDir Path dir;

  private int madeFiles;

  @ParameterizedTest
  @ValueSource(strings = {"numpy-f4-2x3.npy", "numpy-f2-2x3.npy", "numpy-f4-v2-2x3.npy"})
  void readsWhatNumpyWrites(String resource) throws IOException {
    Path file = dir.resolve(resource);
    try (InputStream in =
        Objects.requireNonNull(getClass().getResourceAsStream("/npy/" + resource), resource)) {
      Files.copy(in, file);
    }
    try (NpyActivationFile npy = NpyActivationFile.open(file)) {
      assertThat(npy.rows()).isEqualTo(2);
      assertThat(npy.dIn()).isEqualTo(3);
      float[] rows = new float[6];
      assertThat(npy.read(rows, 10)).isEqualTo(2);
      assertThat(rows).containsExactly(NUMPY_VALUES);
      assertThat(npy.read(rows, 10)).isZero();
    }
  }

  @Test
  void writtenFilesReadBackInBlocks() throws IOException {
    float[] data = new float[7 * 5];
    for (int i = 0; i < data.length; i++) {
      data[i] = i * 0.5f - 3;
    }
    Path file = dir.resolve("acts.npy");
    NpyActivationFile.write(file, data, 7, 5);
    // NumPy's own layout: the header ends on a 64-byte boundary.
    assertThat((Files.size(file) - data.length * 4L) % 64).isZero();
    try (NpyActivationFile npy = NpyActivationFile.open(file)) {
      float[] block = new float[3 * 5];
      assertThat(npy.read(block, 3)).isEqualTo(3);
      assertThat(block).containsExactly(Arrays.copyOfRange(data, 0, 15));
      assertThat(npy.remainingRows()).isEqualTo(4);
      assertThat(npy.read(block, 2)).isEqualTo(2);
      assertThat(Arrays.copyOf(block, 10)).containsExactly(Arrays.copyOfRange(data, 15, 25));
      assertThat(npy.read(block, 3)).isEqualTo(2);
      assertThat(Arrays.copyOf(block, 10)).containsExactly(Arrays.copyOfRange(data, 25, 35));
      assertThat(npy.read(block, 3)).isZero();
    }
  }

  @Test
  void notAnNpyFile() throws IOException {
    Path file = dir.resolve("text.npy");
    Files.writeString(file, "hello, world");
    assertThatThrownBy(() -> NpyActivationFile.open(file))
        .isInstanceOf(NpyFormatException.class)
        .hasMessage(file + ": not a .npy file (no \\x93NUMPY magic)");
  }

  @Test
  void tooShort() throws IOException {
    Path file = dir.resolve("short.npy");
    Files.write(file, new byte[] {(byte) 0x93, 'N'});
    assertThatThrownBy(() -> NpyActivationFile.open(file))
        .isInstanceOf(NpyFormatException.class)
        .hasMessageEndingWith("too short to be a .npy file");
  }

  @Test
  void unsupportedVersion() throws IOException {
    Path file = npy(9, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }", 4);
    assertThatThrownBy(() -> NpyActivationFile.open(file))
        .isInstanceOf(NpyFormatException.class)
        .hasMessageEndingWith("unsupported .npy format version 9");
  }

  @Test
  void float64IsRefusedWithAHint() throws IOException {
    Path file = npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }", 8);
    assertThatThrownBy(() -> NpyActivationFile.open(file))
        .isInstanceOf(NpyFormatException.class)
        .hasMessageContaining("dtype '<f8' is not supported")
        .hasMessageContaining("astype('<f4')");
  }

  @Test
  void bigEndianIsRefused() throws IOException {
    Path file = npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1, 1), }", 4);
    assertThatThrownBy(() -> NpyActivationFile.open(file))
        .isInstanceOf(NpyFormatException.class)
        .hasMessageContaining("dtype '>f4' is not supported");
  }

  @Test
  void fortranOrderIsRefused() throws IOException {
    Path file = npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16);
    assertThatThrownBy(() -> NpyActivationFile.open(file))
        .isInstanceOf(NpyFormatException.class)
        .hasMessageContaining("Fortran order");
  }

  @ParameterizedTest
  @ValueSource(strings = {"(6,)", "(1, 2, 3)", "()"})
  void onlyTwoDimensionalArraysAreAccepted(String shape) throws IOException {
    Path file = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }", 24);
    assertThatThrownBy(() -> NpyActivationFile.open(file))
        .isInstanceOf(NpyFormatException.class)
        .hasMessageContaining("must hold a 2-D array [tokens, d_in]");
  }

  @Test
  void missingHeaderEntry() throws IOException {
    Path file = npy(1, "{'fortran_order': False, 'shape': (1, 1), }", 4);
    assertThatThrownBy(() -> NpyActivationFile.open(file))
        .isInstanceOf(NpyFormatException.class)
        .hasMessageContaining("header has no valid 'descr' entry");
  }

  @Test
  void truncatedData() throws IOException {
    Path file = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2), }", 30);
    assertThatThrownBy(() -> NpyActivationFile.open(file))
        .isInstanceOf(NpyFormatException.class)
        .hasMessageContaining("header promises 4 × 2 elements of 4 bytes")
        .hasMessageEndingWith("(truncated?)");
  }

  @Test
  void trailingBytes() throws IOException {
    Path file = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", 9);
    assertThatThrownBy(() -> NpyActivationFile.open(file))
        .isInstanceOf(NpyFormatException.class)
        .hasMessageContaining("but the file has");
  }

  @Test
  void writeRejectsAShapeThatDoesNotMatchTheData() {
    assertThatThrownBy(() -> NpyActivationFile.write(dir.resolve("x.npy"), new float[5], 2, 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("data must hold rows × d_in = 2 × 3 floats (rows >= 0, d_in > 0), had 5");
  }

  private Path npy(int version, String dict, int dataBytes) throws IOException {
    byte[] header = (dict + "\n").getBytes(StandardCharsets.US_ASCII);
    ByteBuffer b =
        ByteBuffer.allocate(12 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) version, 0});
    if (version == 1) {
      b.putShort((short) header.length);
    } else {
      b.putInt(header.length);
    }
    b.put(header);
    Path file = dir.resolve("made-" + version + "-" + madeFiles++ + ".npy");
    Files.write(file, Arrays.copyOf(b.array(), b.position() + dataBytes));
    return file;
  }
}
