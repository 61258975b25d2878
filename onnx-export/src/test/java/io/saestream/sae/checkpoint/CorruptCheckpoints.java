package io.saestream.sae.checkpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Broken sae-lens SAE directories, one static method per defect, for tests that check a bad
 * checkpoint is refused with a message naming the file and the problem (and, in CLI tests, that no
 * partial output is left behind). Each method creates {@code <parent>/<case name>/} holding {@code
 * cfg.json} and {@code sae_weights.safetensors} of a tiny standard SAE ({@value #D_IN} x {@value
 * #D_SAE}) with exactly one defect, written byte by byte (independently of the code under test),
 * and returns that directory. {@link #valid} is the defect-free baseline.
 */
public final class CorruptCheckpoints {

  /** d_in of the generated SAEs. */
  public static final int D_IN = 4;

  /** d_sae of the generated SAEs. */
  public static final int D_SAE = 8;

  private CorruptCheckpoints() {}

  /** A valid standard SAE (the baseline every other case breaks in one way). */
  public static Path valid(Path parent) {
    return write(parent, "valid", config("standard"), standardWeights());
  }

  /** The weights file cut in the middle of its data section. */
  public static Path truncatedWeights(Path parent) {
    byte[] file = standardWeights();
    return write(
        parent, "truncated-weights", config("standard"), Arrays.copyOf(file, file.length - 100));
  }

  /** A weights file of 5 bytes, shorter than the 8-byte header length. */
  public static Path weightsShorterThanPrefix(Path parent) {
    return write(
        parent, "weights-shorter-than-prefix", config("standard"), new byte[] {1, 2, 3, 4, 5});
  }

  /** A header length pointing past the end of the file. */
  public static Path headerLengthBeyondFile(Path parent) {
    byte[] file = standardWeights();
    ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).putLong(0, file.length + 100L);
    return write(parent, "header-length-beyond-file", config("standard"), file);
  }

  /** A header that is not JSON. */
  public static Path headerNotJson(Path parent) {
    return write(
        parent,
        "header-not-json",
        config("standard"),
        safetensors("{\"W_enc\": nope}", new byte[0]));
  }

  /** {@code W_dec}'s data_offsets overlapping {@code W_enc}'s. */
  public static Path overlappingOffsets(Path parent) {
    String header =
        header(
            entry("W_enc", "F32", "[4,8]", 0, 128),
            entry("W_dec", "F32", "[8,4]", 64, 192),
            entry("b_dec", "F32", "[4]", 192, 208),
            entry("b_enc", "F32", "[8]", 208, 240));
    return write(
        parent, "overlapping-offsets", config("standard"), safetensors(header, new byte[240]));
  }

  /** {@code b_enc}'s data_offsets extending past the end of the data section. */
  public static Path outOfRangeOffsets(Path parent) {
    String header =
        header(
            entry("W_dec", "F32", "[8,4]", 0, 128),
            entry("W_enc", "F32", "[4,8]", 128, 256),
            entry("b_dec", "F32", "[4]", 256, 272),
            entry("b_enc", "F32", "[8]", 272, 304));
    return write(
        parent, "out-of-range-offsets", config("standard"), safetensors(header, new byte[296]));
  }

  /** 16 bytes of the data section that belong to no tensor. */
  public static Path gapBetweenTensors(Path parent) {
    String header =
        header(
            entry("W_dec", "F32", "[8,4]", 0, 128),
            entry("W_enc", "F32", "[4,8]", 144, 272),
            entry("b_dec", "F32", "[4]", 272, 288),
            entry("b_enc", "F32", "[8]", 288, 320));
    return write(
        parent, "gap-between-tensors", config("standard"), safetensors(header, new byte[320]));
  }

  /** {@code b_dec} stored as I32, which sae-lens SAEs never use. */
  public static Path unsupportedDtype(Path parent) {
    List<Raw> t = standardTensors();
    t.set(2, new Raw("b_dec", "I32", new long[] {D_IN}, new byte[4 * D_IN]));
    return write(parent, "unsupported-dtype", config("standard"), safetensors(t));
  }

  /** {@code W_enc} of shape [4, 6] while cfg.json says d_sae = 8. */
  public static Path shapeDisagreesWithConfig(Path parent) {
    List<Raw> t = standardTensors();
    t.set(1, new Raw("W_enc", "F32", new long[] {D_IN, 6}, floats(D_IN * 6, 2)));
    return write(parent, "shape-disagrees-with-config", config("standard"), safetensors(t));
  }

  /** A jumprelu cfg.json with no {@code threshold} tensor. */
  public static Path missingTensor(Path parent) {
    return write(parent, "missing-tensor", config("jumprelu"), standardWeights());
  }

  /** A NaN at flat index 13 (element [1, 5]) of {@code W_enc}. */
  public static Path nanWeight(Path parent) {
    List<Raw> t = standardTensors();
    t.set(1, withValue(t.get(1), 13, Float.NaN));
    return write(parent, "nan-weight", config("standard"), safetensors(t));
  }

  /** +Infinity at flat index 6 (element [1, 2]) of {@code W_dec}. */
  public static Path infWeight(Path parent) {
    List<Raw> t = standardTensors();
    t.set(0, withValue(t.get(0), 6, Float.POSITIVE_INFINITY));
    return write(parent, "inf-weight", config("standard"), safetensors(t));
  }

  /** {@code architecture: "matryoshka_batchtopk"}, which sae-stream does not support. */
  public static Path unknownArchitecture(Path parent) {
    return write(parent, "unknown-architecture", config("matryoshka_batchtopk"), standardWeights());
  }

  /** {@code d_sae: 0}. */
  public static Path dSaeNotPositive(Path parent) {
    String cfg = config("standard").replace("\"d_sae\": " + D_SAE, "\"d_sae\": 0");
    return write(parent, "d-sae-not-positive", cfg, standardWeights());
  }

  /** {@code d_in: -3}. */
  public static Path dInNotPositive(Path parent) {
    String cfg = config("standard").replace("\"d_in\": " + D_IN, "\"d_in\": -3");
    return write(parent, "d-in-not-positive", cfg, standardWeights());
  }

  /** cfg.json that is not JSON (a missing closing brace). */
  public static Path malformedConfig(Path parent) {
    String cfg = config("standard");
    return write(parent, "malformed-config", cfg.substring(0, cfg.length() - 1), standardWeights());
  }

  /** An inference cfg.json still asking for {@code expected_average_only_in}. */
  public static Path unfoldedActivationScale(Path parent) {
    String cfg =
        config("standard")
            .replace(
                "\"normalize_activations\": \"none\"",
                "\"normalize_activations\": \"expected_average_only_in\"");
    return write(parent, "unfolded-activation-scale", cfg, standardWeights());
  }

  /** A directory with weights but no cfg.json. */
  public static Path missingConfig(Path parent) {
    Path dir = write(parent, "missing-config", config("standard"), standardWeights());
    delete(dir.resolve(SaeCheckpoint.CONFIG_FILE));
    return dir;
  }

  /** A directory with cfg.json but no weights. */
  public static Path missingWeights(Path parent) {
    Path dir = write(parent, "missing-weights", config("standard"), standardWeights());
    delete(dir.resolve(SaeCheckpoint.WEIGHTS_FILE));
    return dir;
  }

  // ---------------------------------------------------------------------------------------------

  private static final class Raw {
    final String name;
    final String dtype;
    final long[] shape;
    final byte[] data;

    Raw(String name, String dtype, long[] shape, byte[] data) {
      this.name = name;
      this.dtype = dtype;
      this.shape = shape;
      this.data = data;
    }
  }

  private static String config(String architecture) {
    return "{\"d_in\": "
        + D_IN
        + ", \"d_sae\": "
        + D_SAE
        + ", \"dtype\": \"float32\", \"device\": \"cpu\", \"apply_b_dec_to_input\": true,"
        + " \"normalize_activations\": \"none\", \"reshape_activations\": \"none\", \"metadata\":"
        + " {\"sae_lens_version\": \"6.18.0\", \"model_name\": \"corrupt-fixture\"}, \"architecture\": \""
        + architecture
        + "\"}";
  }

  /** The tensors of a valid standard SAE in safetensors order. */
  private static List<Raw> standardTensors() {
    List<Raw> t = new ArrayList<>();
    t.add(new Raw("W_dec", "F32", new long[] {D_SAE, D_IN}, floats(D_SAE * D_IN, 1)));
    t.add(new Raw("W_enc", "F32", new long[] {D_IN, D_SAE}, floats(D_IN * D_SAE, 2)));
    t.add(new Raw("b_dec", "F32", new long[] {D_IN}, floats(D_IN, 3)));
    t.add(new Raw("b_enc", "F32", new long[] {D_SAE}, floats(D_SAE, 4)));
    return t;
  }

  private static byte[] standardWeights() {
    return safetensors(standardTensors());
  }

  private static Raw withValue(Raw r, int index, float value) {
    byte[] data = r.data.clone();
    ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).putFloat(index * 4, value);
    return new Raw(r.name, r.dtype, r.shape, data);
  }

  /** Deterministic values in (-1, 1). */
  private static byte[] floats(int n, int seed) {
    ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      b.putFloat((float) Math.sin(seed * 1000.0 + i * 0.7));
    }
    return b.array();
  }

  private static String entry(String name, String dtype, String shape, long begin, long end) {
    return "\""
        + name
        + "\":{\"dtype\":\""
        + dtype
        + "\",\"shape\":"
        + shape
        + ",\"data_offsets\":["
        + begin
        + ","
        + end
        + "]}";
  }

  private static byte[] safetensors(List<Raw> tensors) {
    List<String> entries = new ArrayList<>();
    long offset = 0;
    ByteBuffer data = ByteBuffer.allocate(tensors.stream().mapToInt(r -> r.data.length).sum());
    for (Raw r : tensors) {
      StringBuilder shape = new StringBuilder("[");
      for (int i = 0; i < r.shape.length; i++) {
        shape.append(i > 0 ? "," : "").append(r.shape[i]);
      }
      entries.add(
          entry(r.name, r.dtype, shape.append(']').toString(), offset, offset + r.data.length));
      offset += r.data.length;
      data.put(r.data);
    }
    return safetensors(header(entries.toArray(new String[0])), data.array());
  }

  /** A safetensors JSON header holding {@code entries} in order. */
  private static String header(String... entries) {
    return "{" + String.join(",", entries) + "}";
  }

  /** u64-LE length + header padded with spaces to a multiple of 8 + data. */
  static byte[] safetensors(String header, byte[] data) {
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) / 8 * 8;
    ByteBuffer b = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(padded).put(json);
    for (int i = json.length; i < padded; i++) {
      b.put((byte) ' ');
    }
    b.put(data);
    return b.array();
  }

  private static Path write(Path parent, String name, String cfg, byte[] weights) {
    Path dir = parent.resolve(name);
    try {
      Files.createDirectories(dir);
      Files.writeString(dir.resolve(SaeCheckpoint.CONFIG_FILE), cfg, StandardCharsets.UTF_8);
      Files.write(dir.resolve(SaeCheckpoint.WEIGHTS_FILE), weights);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return dir;
  }

  private static void delete(Path file) {
    try {
      Files.delete(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
