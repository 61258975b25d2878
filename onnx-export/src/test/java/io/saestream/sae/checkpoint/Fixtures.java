package io.saestream.sae.checkpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Locates the sae-lens reference fixtures ({@code shared/fixtures/saelens}, see its README) and
 * reads their expected tensors. A missing fixtures directory fails the test: parity with sae-lens
 * is not optional.
 */
public final class Fixtures {

  /** System property overriding where the fixtures are. */
  public static final String PROPERTY = "saestream.fixtures";

  private Fixtures() {}

  /** The fixtures root: {@code -Dsaestream.fixtures}, else found by walking up from the cwd. */
  public static Path root() {
    String configured = System.getProperty(PROPERTY);
    if (configured != null) {
      Path p = Path.of(configured);
      if (!Files.isDirectory(p)) {
        throw new IllegalStateException(PROPERTY + "=" + configured + " is not a directory");
      }
      return p;
    }
    Path start = Path.of("").toAbsolutePath();
    for (Path a = start; a != null; a = a.getParent()) {
      for (String rel : List.of("shared/fixtures/saelens", "fixtures/saelens")) {
        Path candidate = a.resolve(rel);
        if (Files.isRegularFile(candidate.resolve("index.json"))) {
          return candidate;
        }
      }
    }
    throw new IllegalStateException(
        "sae-lens fixtures not found above "
            + start
            + " (looked for shared/fixtures/saelens/index.json); set -D"
            + PROPERTY
            + "=<dir>");
  }

  /** {@code <case>/sae}. */
  public static Path sae(String fixtureCase) {
    return existing(root().resolve(fixtureCase).resolve("sae"));
  }

  /** {@code <case>/training_checkpoint}. */
  public static Path trainingCheckpoint(String fixtureCase) {
    return existing(root().resolve(fixtureCase).resolve("training_checkpoint"));
  }

  /** Every SAE directory of the fixtures ({@code sae/} and {@code training_checkpoint/}). */
  public static List<Path> checkpointDirs() {
    List<Path> out = new ArrayList<>();
    try (Stream<Path> cases = Files.list(root())) {
      for (Path c : cases.sorted().toList()) {
        for (String sub : List.of("sae", "training_checkpoint")) {
          if (Files.isDirectory(c.resolve(sub))) {
            out.add(c.resolve(sub));
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (out.size() < 10) {
      throw new IllegalStateException("expected the 15 fixture SAE directories, found " + out);
    }
    return out;
  }

  /** The tensors of {@code <case>/expected.safetensors} as float32 arrays. */
  public static Expected expected(String fixtureCase) {
    Path file = existing(root().resolve(fixtureCase).resolve("expected.safetensors"));
    Map<String, float[]> out = new LinkedHashMap<>();
    try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
      f.tensors().forEach((name, t) -> out.put(name, t.toFloatArray()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Expected(file, out);
  }

  /** The expected tensors of one fixture case. */
  public static final class Expected {
    private final Path file;
    private final Map<String, float[]> tensors;

    private Expected(Path file, Map<String, float[]> tensors) {
      this.file = file;
      this.tensors = tensors;
    }

    /** The tensor called {@code name}, flattened; fails when the fixture lacks it. */
    public float[] get(String name) {
      float[] t = tensors.get(name);
      if (t == null) {
        throw new IllegalStateException(file + " has no tensor " + name + ": " + tensors.keySet());
      }
      return t;
    }

    /** The 0-d tensor called {@code name}. */
    public float scalar(String name) {
      return get(name)[0];
    }
  }

  /** {@code <case>-<sae|training_checkpoint>}, a unique name for a fixture SAE directory. */
  public static String label(Path checkpointDir) {
    Path parent = checkpointDir.getParent();
    return (parent == null ? "" : parent.getFileName() + "-") + checkpointDir.getFileName();
  }

  private static Path existing(Path p) {
    if (!Files.exists(p)) {
      throw new IllegalStateException("fixture missing: " + p);
    }
    return p;
  }
}
