package io.saestream.sae.onnx;

import io.saestream.sae.checkpoint.SafeTensorsFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Locates the sae-lens reference fixtures and reads their expected tensors. The directory is {@code
 * -Dsaestream.fixtures}, else {@code shared/fixtures/saelens} found by walking up from the working
 * directory (it is a sibling of the repository root). Missing fixtures throw: parity with sae-lens
 * is never skipped.
 */
final class SaeLensFixtures {

  static final String PROPERTY = "saestream.fixtures";

  private SaeLensFixtures() {}

  static Path root() {
    String configured = System.getProperty(PROPERTY);
    if (configured != null) {
      Path p = Path.of(configured);
      if (!Files.isRegularFile(p.resolve("index.json"))) {
        throw new IllegalStateException(
            "-D" + PROPERTY + "=" + configured + " holds no sae-lens fixtures (no index.json)");
      }
      return p;
    }
    Path start = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    for (Path dir = start; dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("shared/fixtures/saelens");
      if (Files.isRegularFile(candidate.resolve("index.json"))) {
        return candidate;
      }
    }
    throw new IllegalStateException(
        "sae-lens fixtures not found: no shared/fixtures/saelens/index.json above "
            + start
            + "; set -D"
            + PROPERTY
            + "=<dir>");
  }

  /** {@code <case>/<dir>}, e.g. {@code topk_plain/sae}. */
  static Path saeDir(String fixtureCase, String dir) {
    Path p = root().resolve(fixtureCase).resolve(dir);
    if (!Files.isDirectory(p)) {
      throw new IllegalStateException("fixture directory missing: " + p);
    }
    return p;
  }

  /** Every tensor of {@code <case>/expected.safetensors} (all F32) as a flat float array. */
  static Map<String, float[]> expected(String fixtureCase) {
    Path file = root().resolve(fixtureCase).resolve("expected.safetensors");
    if (!Files.isRegularFile(file)) {
      throw new IllegalStateException("fixture missing: " + file);
    }
    Map<String, float[]> out = new LinkedHashMap<>();
    try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
      f.tensors().forEach((name, t) -> out.put(name, t.toFloatArray()));
    } catch (IOException e) {
      throw new UncheckedIOException("closing " + file, e);
    }
    return out;
  }
}
