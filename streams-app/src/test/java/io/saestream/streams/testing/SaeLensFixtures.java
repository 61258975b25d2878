package io.saestream.streams.testing;

import io.saestream.sae.checkpoint.SafeTensorsFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The sae-lens reference fixtures ({@code shared/fixtures/saelens}): found by walking up from the
 * working directory, or at {@code -Dsaestream.fixtures}. Missing fixtures fail the test, never skip
 * it.
 */
public final class SaeLensFixtures {

  private static final Path RELATIVE = Path.of("shared", "fixtures", "saelens");

  private SaeLensFixtures() {}

  /** The fixtures directory. */
  public static Path root() {
    String property = System.getProperty("saestream.fixtures");
    if (property != null && !property.isBlank()) {
      Path dir = Path.of(property);
      if (!Files.isDirectory(dir)) {
        throw new AssertionError("-Dsaestream.fixtures=" + property + " is not a directory");
      }
      return dir;
    }
    Path start = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    for (Path dir = start; dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve(RELATIVE);
      if (Files.isDirectory(candidate)) {
        return candidate;
      }
    }
    throw new AssertionError(
        "sae-lens fixtures not found: no "
            + RELATIVE
            + " above "
            + start
            + "; set -Dsaestream.fixtures=<dir>");
  }

  /** The sae-lens SAE directory of {@code caseName}. */
  public static Path saeDir(String caseName) {
    return root().resolve(caseName).resolve("sae");
  }

  /** A tensor of {@code caseName}'s {@code expected.safetensors}, as float32. */
  public static Matrix expected(String caseName, String tensor) {
    try (SafeTensorsFile file =
        SafeTensorsFile.open(root().resolve(caseName).resolve("expected.safetensors"))) {
      SafeTensorsFile.MappedTensor t = file.tensor(tensor);
      long[] shape = t.shape();
      int rows = shape.length == 0 ? 1 : (int) shape[0];
      int cols = shape.length < 2 ? 1 : (int) shape[1];
      float[] data = new float[rows * cols];
      t.readFloats(0, data, 0, data.length);
      return new Matrix(rows, cols, data);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A weight of {@code caseName}'s SAE, as float32. */
  public static Matrix weight(String caseName, String tensor) {
    try (SafeTensorsFile file =
        SafeTensorsFile.open(saeDir(caseName).resolve("sae_weights.safetensors"))) {
      SafeTensorsFile.MappedTensor t = file.tensor(tensor);
      long[] shape = t.shape();
      int rows = shape.length == 0 ? 1 : (int) shape[0];
      int cols = shape.length < 2 ? 1 : (int) shape[1];
      float[] data = new float[rows * cols];
      t.readFloats(0, data, 0, data.length);
      return new Matrix(rows, cols, data);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A row-major float32 matrix; the arrays are shared, tests must not modify them. */
  public static final class Matrix {

    private final int rows;
    private final int cols;
    private final float[] data;

    Matrix(int rows, int cols, float[] data) {
      this.rows = rows;
      this.cols = cols;
      this.data = data;
    }

    /** Number of rows. */
    public int rows() {
      return rows;
    }

    /** Number of columns. */
    public int cols() {
      return cols;
    }

    /** The values, row-major. */
    public float[] data() {
      return data;
    }

    /** The element at ({@code r}, {@code c}). */
    public float get(int r, int c) {
      return data[r * cols + c];
    }

    /** Row {@code r} as a copy. */
    public float[] row(int r) {
      return Arrays.copyOfRange(data, r * cols, (r + 1) * cols);
    }

    /** L2 norm of each row, in double. */
    public double[] rowNorms() {
      double[] norms = new double[rows];
      for (int r = 0; r < rows; r++) {
        double s = 0;
        for (int c = 0; c < cols; c++) {
          s += (double) get(r, c) * get(r, c);
        }
        norms[r] = Math.sqrt(s);
      }
      return norms;
    }
  }
}
